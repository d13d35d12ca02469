import CofferCore
import Foundation
import Testing

@testable import CofferCLI

/// kv patch, stdin and files without their newline, --format, suggestions, messages that name what is missing.
@Suite("CLI: patch, formats, suggestions, flags where they belong")
struct CLICompletenessTests {
    @Test func patchKeepsTheOtherFieldsAndTrimNewlineDropsOne() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        func coffer(_ arguments: [String], stdin: String? = nil) throws -> CofferBinary.Result {
            try CofferBinary.run(arguments, home: directory + "/home", env: ["COFFER_ADDR": server.address], stdin: stdin)
        }
        #expect(try coffer(["kv", "put", "app/prod", "DB_PASSWORD=first", "API_KEY=k1"]).status == 0)
        // The README's rotation example: API_KEY must survive.
        #expect(try coffer(["kv", "patch", "app/prod", "DB_PASSWORD=rotated"]).stdout == "Patched app/prod: version 2\n")
        #expect(try coffer(["kv", "get", "app/prod", "--field", "API_KEY"]).stdout == "k1\n")
        #expect(try coffer(["kv", "get", "app/prod", "--field", "DB_PASSWORD"]).stdout == "rotated\n")
        let stale = try coffer(["kv", "patch", "app/prod", "DB_PASSWORD=x", "--cas", "1"])
        #expect(stale.status == 1 && stale.stderr.contains("CAS_MISMATCH"))
        #expect(try coffer(["kv", "patch", "missing/path", "A=1"]).stderr.contains("NOT_FOUND"))

        #expect(try coffer(["kv", "put", "files", "RAW=-"], stdin: "line\n").status == 0)
        #expect(try coffer(["kv", "get", "files", "--field", "RAW"]).stdout == "line\n\n")
        try "from-file\r\n".write(toFile: directory + "/v.txt", atomically: true, encoding: .utf8)
        #expect(try coffer(["kv", "put", "files", "RAW=-", "FILE=@\(directory)/v.txt", "--trim-newline"], stdin: "line\n").status == 0)
        #expect(try coffer(["kv", "get", "files", "--field", "RAW"]).stdout == "line\n")
        #expect(try coffer(["kv", "get", "files", "--field", "FILE"]).stdout == "from-file\n")
        let twice = try coffer(["kv", "put", "files", "A=-", "B=-"], stdin: "x")
        #expect(twice.status == 1 && twice.stderr.contains("standard input can be read for one key only"))
        let bare = try coffer(["kv", "put", "files", "hunter2-pasted-without-key"])
        #expect(bare.status == 1 && bare.stderr.contains("an argument has no '='") && !bare.stderr.contains("hunter2"))

        let table = try coffer(["kv", "get", "app/prod"]).stdout
        #expect(table == "API_KEY      k1\nDB_PASSWORD  rotated\n")
        let json = try coffer(["kv", "get", "app/prod", "--format", "json"]).stdout
        #expect(JSONValue.parse(Array(json.utf8))?["data"]?["data"] == ["API_KEY": "k1", "DB_PASSWORD": "rotated"])
        #expect(JSONValue.parse(Array(try coffer(["kv", "list", "--format", "json"]).stdout.utf8)) == ["app/", "files"])
        #expect(try coffer(["kv", "get", "app/prod", "--format", "yaml"]).stderr.contains("format"))

        #expect(try coffer(["transit", "create", "signer", "--type", "ed25519"]).status == 0)
        let policy = try coffer(["policy", "put", "P1", "--mode", "sign-then-encrypt", "--signing-key", "signer", "--encryption-key", "nokey"])
        #expect(policy.status == 1 && policy.stderr.contains("NOT_FOUND: encryption_key: no transit key named 'nokey'"))
    }

    @Test(arguments: [
        (["kv", "gett", "app/prod"], "'coffer kv gett' is not a command. Did you mean 'coffer kv get'?"),
        (["tokn", "create"], "Did you mean 'coffer token'?"),
        (["kv", "metadata", "gte", "x"], "Did you mean 'coffer kv metadata get'?"),
        (["zzzzzz"], "'coffer zzzzzz' is not a command."),
    ])
    func mistypedCommandsSuggestTheNearest(_ arguments: [String], _ expected: String) throws {
        let result = try CofferBinary.run(arguments, home: try CofferBinary.scratch() + "/home")
        #expect(result.status == 64)
        #expect(result.stderr.contains(expected), "\(result.stderr)")
    }

    @Test func suggestionsAreComputedFromTheCommandTree() {
        #expect(CommandSuggestion.message(for: ["kv", "get", "x"], root: CofferCommand.self) == nil)
        #expect(CommandSuggestion.message(for: ["--help"], root: CofferCommand.self) == nil)
        #expect(CommandSuggestion.message(for: ["help", "kv"], root: CofferCommand.self) == nil)
        #expect(CommandSuggestion.nearest(to: "exprot", in: ["export", "run"]) == "export")
        #expect(CommandSuggestion.nearest(to: "qqqqq", in: ["export", "run"]) == nil)
        #expect(CommandSuggestion.distance("kitten", "sitting") == 3)
    }

    /// `--mount` only on the commands that read or write KV data.
    @Test func flagsAppearOnlyWhereTheyAct() throws {
        let home = try CofferBinary.scratch() + "/home"
        let token = try CofferBinary.run(["token", "create", "--help"], home: home).stdout
        #expect(!token.contains("--mount"))
        #expect(try CofferBinary.run(["token", "create", "--mount", "x"], home: home).status == 64)
        #expect(try CofferBinary.run(["kv", "get", "--help"], home: home).stdout.contains("--mount"))
        #expect(try CofferBinary.run(["export", "--help"], home: home).stdout.contains("--mount"))
        for command in [
            ["dev"], ["serve"], ["kv", "put"], ["kv", "patch"], ["kv", "get"], ["export"], ["run"], ["login"], ["token", "create"],
            ["keys", "create"],
        ] {
            #expect(try CofferBinary.run(command + ["--help"], home: home).stdout.contains("Examples:"), "\(command)")
        }
        let completion = try CofferBinary.run(["--generate-completion-script", "bash"], home: home)
        #expect(completion.status == 0 && completion.stdout.contains("_coffer"))
    }

    @Test func tablesFlattenAndEscape() {
        let value: JSONValue = ["b": ["x": 1, "y": ["p", "q"]], "a": "two\nlines", "c": .null, "d": .array([["k": "v"]])]
        #expect(Table.render(Table.rows(value)) == "a      two\\nlines\nb.x    1\nb.y    p, q\nc      -\nd.0.k  v\n")
    }

    /// `coffer gateway provider|route|client|domain` edit one part of a project; the server checks the
    /// whole project each time, and a refused change leaves the stored one as it was.
    @Test func gatewayProjectsAreEditedPartByPart() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        func coffer(_ arguments: [String], stdin: String? = nil) throws -> CofferBinary.Result {
            try CofferBinary.run(arguments, home: directory + "/home", env: ["COFFER_ADDR": server.address], stdin: stdin)
        }
        #expect(try coffer(["gateway", "project", "put", "shop", "--file", "-"], stdin: "{}").status == 0)
        let provider = #"{"base_url": "https://api.example.com/v1"}"#
        #expect(try coffer(["gateway", "provider", "put", "shop", "api", "--file", "-"], stdin: provider).stdout == "Saved provider api of shop\n")
        let route = #"{"method": "GET", "path": "/items/{id}", "provider": "api"}"#
        #expect(try coffer(["gateway", "route", "put", "shop", "items", "--file", "-"], stdin: route).status == 0)
        let dangling = try coffer(
            ["gateway", "route", "put", "shop", "bad", "--file", "-"], stdin: #"{"method": "GET", "path": "/x", "provider": "nope"}"#)
        #expect(dangling.status == 1 && dangling.stderr.contains("INVALID_REQUEST") && dangling.stderr.contains("names no provider"))
        #expect(try coffer(["gateway", "domain", "add", "shop", "https://shop.example.com"]).stdout == "Allowed https://shop.example.com for shop\n")
        #expect(try coffer(["gateway", "domain", "add", "shop", "https://shop.example.com"]).stderr.contains("already allowed"))
        #expect(try coffer(["gateway", "domain", "add", "shop", "https://Shop.example.com/x"]).stderr.contains("INVALID_REQUEST"))
        #expect(try coffer(["gateway", "domain", "list", "shop"]).stdout == "https://shop.example.com\n")
        let client = #"{"key_id": "backend-1", "algorithm": "hmac-sha256", "secret": "secret/shop#HMAC"}"#
        #expect(try coffer(["gateway", "client", "put", "shop", "backend", "--file", "-"], stdin: client).status == 0)
        let document = JSONValue.parse(Array(try coffer(["gateway", "project", "get", "shop", "--format", "json"]).stdout.utf8))
        #expect(document?["routes"]?["items"]?["path"] == "/items/{id}" && document?["routes"]?["bad"] == nil)
        #expect(document?["clients"]?["backend"]?["key_id"] == "backend-1")
        // A provider still used by a route cannot go; removing the route first lets it.
        #expect(try coffer(["gateway", "provider", "delete", "shop", "api"]).stderr.contains("names no provider"))
        #expect(try coffer(["gateway", "route", "delete", "shop", "items"]).status == 0)
        #expect(try coffer(["gateway", "provider", "delete", "shop", "api"]).status == 0)
        #expect(try coffer(["gateway", "route", "delete", "shop", "items"]).stderr.contains("no route named items"))
        #expect(try coffer(["gateway", "domain", "remove", "shop", "https://shop.example.com"]).status == 0)
        #expect(try coffer(["gateway", "domain", "list", "shop"]).stdout.isEmpty)
    }
}

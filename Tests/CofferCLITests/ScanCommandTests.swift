import CofferCLI
import CofferCore
import CofferTestSupport
import Foundation
import Testing

@Suite("CLI: scan")
struct ScanCommandTests {
    /// A tree with credentials in a nested file, one in a skipped `.build` folder, and clean files.
    static func tree(_ directory: String, key: String, token: String) throws -> String {
        let root = directory + "/repo"
        try FileManager.default.createDirectory(atPath: root + "/config/deep", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/.build", withIntermediateDirectories: true)
        try "# settings\nAPI_KEY=\(key)\n".write(toFile: root + "/config/deep/app.env", atomically: true, encoding: .utf8)
        try "curl -H 'X-Vault-Token: \(token)'\n".write(toFile: root + "/notes.sh", atomically: true, encoding: .utf8)
        try "\(APIKeyFormat.generate(.live))\n".write(toFile: root + "/.build/cache", atomically: true, encoding: .utf8)
        let typo = String(key.dropLast()) + (key.hasSuffix("a") ? "b" : "a")
        try ("not a key: \(typo)\nsk_live_" + String(repeating: "x", count: 49) + "\n").write(
            toFile: root + "/clean.txt", atomically: true, encoding: .utf8)
        return root
    }

    @Test func findsCredentialsInFilesAndStdinWithoutPrintingThem() throws {
        let directory = try CofferBinary.scratch()
        let key = APIKeyFormat.generate(.test)
        let token = AccessToken.generate()
        let root = try Self.tree(directory, key: key, token: token)
        let found = try CofferBinary.run(["scan", "repo"], home: directory, cwd: directory)
        #expect(found.status == 1, "\(found.stderr)")
        #expect(
            found.stdout
                == "repo/config/deep/app.env:2:9: sk_test_…\(key.suffix(4)) Coffer API key\nrepo/notes.sh:1:25: cft_…\(token.suffix(4)) Coffer token\n"
        )
        #expect(found.stderr.contains("2 findings in 2 files (3 files)"), "the .build folder is skipped: \(found.stderr)")
        #expect(!(found.stdout + found.stderr).contains(key) && !(found.stdout + found.stderr).contains(token))

        let clean = try CofferBinary.run(["scan", root + "/clean.txt"], home: directory)
        #expect(clean.status == 0 && clean.stdout.isEmpty && clean.stderr.contains("no Coffer credentials found (1 file)"))
        let stdin = try CofferBinary.run(["scan", "-"], home: directory, stdin: "export KEY=\(key)\n")
        #expect(stdin.status == 1 && stdin.stdout == "-:1:12: sk_test_…\(key.suffix(4)) Coffer API key\n")
        let missing = try CofferBinary.run(["scan", directory + "/nothing-here"], home: directory)
        #expect(missing.status == 2 && missing.stderr.contains("no such file or directory"))

        let json = try CofferBinary.run(["scan", "--format", "json", root], home: directory)
        guard case .array(let items)? = JSONValue.parse(Array(json.stdout.utf8)) else { Issue.record("not JSON: \(json.stdout)"); return }
        #expect(items.count == 2 && items[0]["kind"] == "api_key" && items[0]["line"] == 2 && items[1]["kind"] == "token")
        #expect(!json.stdout.contains(key))
    }

    @Test func sarifIsValidAndFingerprinted() throws {
        let directory = try CofferBinary.scratch()
        let key = APIKeyFormat.generate(.live)
        let root = try Self.tree(directory, key: key, token: AccessToken.generate())
        let run = try CofferBinary.run(["scan", "--format", "sarif", root], home: directory)
        #expect(run.status == 1)
        let log = try #require(JSONValue.parse(Array(run.stdout.utf8)))
        func first(_ value: JSONValue?) -> JSONValue? {
            guard case .array(let items)? = value else { return nil }
            return items.first
        }
        let run0 = first(log["runs"])
        #expect(log["version"] == "2.1.0" && run0?["tool"]?["driver"]?["name"] == "coffer-scan")
        let result = try #require(first(run0?["results"]))
        #expect(result["ruleId"] == "coffer/api-key" && result["level"] == "error")
        let location = first(result["locations"])?["physicalLocation"]
        #expect(location?["artifactLocation"]?["uri"]?.stringValue == root + "/config/deep/app.env")
        #expect(location?["region"]?["startLine"] == 2 && location?["region"]?["startColumn"] == 9)
        #expect(result["partialFingerprints"]?["cofferCredentialSha256/v1"]?.stringValue?.count == 64)
        #expect(!run.stdout.contains(key))
    }

    @Test func gitHistoryFindsAKeyDeletedSinceAtTheCommitThatAddedIt() throws {
        let directory = try CofferBinary.scratch()
        let repo = directory + "/history"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        func git(_ arguments: [String]) throws -> CofferBinary.Result {
            let environment = [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory, "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
            ]
            return try CofferBinary.runProgram("/usr/bin/env", ["git", "-C", repo] + arguments, environment: environment)
        }
        let key = APIKeyFormat.generate(.admin)
        _ = try git(["init", "-q"])
        try "first\nsecond\nADMIN=\(key)\n".write(toFile: repo + "/deploy.env", atomically: true, encoding: .utf8)
        _ = try git(["add", "."])
        _ = try git(["commit", "-qm", "add config"])
        let added = try git(["rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try "first\nsecond\n".write(toFile: repo + "/deploy.env", atomically: true, encoding: .utf8)
        _ = try git(["commit", "-qam", "remove the key"])

        #expect(try CofferBinary.run(["scan", repo], home: directory).status == 0, "the working tree is clean now")
        let history = try CofferBinary.run(["scan", "--git", repo], home: directory)
        #expect(history.status == 1, "\(history.stderr)")
        #expect(history.stdout == "\(added.prefix(12)):deploy.env:3:7: sk_admin_…\(key.suffix(4)) Coffer API key\n")
        #expect(history.stderr.contains("(2 commits)"))
        let notARepo = try CofferBinary.run(["scan", "--git", directory], home: directory)
        #expect(notARepo.status == 2 && notARepo.stderr.contains("--git:"))
    }

    @Test func revokeRevokesWhatItFindsWithTheFileAsReason() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let env = ["COFFER_ADDR": server.address]
        let created = try CofferBinary.run(["keys", "create", "--name", "ci", "--scope", "orders:read"], home: directory + "/home", env: env)
        let key = try #require(ServerProcess.firstMatch(in: created.stdout, prefix: "sk_test_"))
        let id = try #require(ServerProcess.firstMatch(in: created.stdout, prefix: "key_"))
        let child = try CofferBinary.run(["token", "create", "--role", "viewer"], home: directory + "/home", env: env)
        let token = try #require(ServerProcess.firstMatch(in: child.stdout, prefix: "cft_"))
        try "KEY=\(key)\nTOKEN=\(token)\n".write(toFile: directory + "/leak.env", atomically: true, encoding: .utf8)

        let scan = try CofferBinary.run(["scan", "--revoke", "leak.env"], home: directory + "/home", env: env, cwd: directory)
        #expect(scan.status == 1, "findings still fail the run: \(scan.stderr)")
        #expect(scan.stderr.contains("revoked: sk_test_…\(key.suffix(4)) at leak.env:1:5"), "\(scan.stderr)")
        #expect(scan.stderr.contains("revoked: cft_…\(token.suffix(4)) at leak.env:2:7"))
        #expect(!(scan.stdout + scan.stderr).contains(key) && !(scan.stdout + scan.stderr).contains(token))
        let shown = try CofferBinary.run(["keys", "show", id, "--json"], home: directory + "/home", env: env)
        #expect(shown.stdout.contains("\"revoked_reason\" : \"leaked: leak.env\""), "\(shown.stdout)")
        let lookup = try CofferBinary.run(
            ["token", "lookup"], home: directory + "/home", env: ["COFFER_ADDR": server.address, "COFFER_TOKEN": token])
        #expect(lookup.status == 1 && lookup.stderr.contains("UNAUTHENTICATED"), "the leaked token no longer works: \(lookup.stderr)")

        let again = try CofferBinary.run(["scan", "--revoke", "leak.env"], home: directory + "/home", env: env, cwd: directory)
        #expect(again.stderr.contains("already revoked: sk_test_…\(key.suffix(4))"))
    }
}

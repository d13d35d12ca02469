import CofferCore
import Foundation
import Testing

/// Issue 10's first defect: `COFFER_TOKEN=$'cft_…\r\n'` used to print the whole token in an
/// `HTTPClientError` on stderr. No client error path may print a credential.
@Suite("CLI: credentials never reach stderr")
struct ClientCredentialTests {
    static let canary = "cft_CANARY" + String(repeating: "q", count: 36)

    @Test(arguments: ["\r\n", "\n", " ", "\t\r\n"])
    func surroundingWhitespaceIsTrimmed(suffix: String) throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let token = try #require(server.rootToken)
        let home = directory + "/home"
        #expect(try CofferBinary.run(["kv", "put", "app/prod", "k=v"], home: home, env: ["COFFER_ADDR": server.address]).status == 0)
        let read = try CofferBinary.run(
            ["kv", "get", "app/prod", "--field", "k"], home: home, env: ["COFFER_ADDR": server.address, "COFFER_TOKEN": token + suffix])
        #expect(read.status == 0 && read.stdout == "v\n", "\(read.stderr)")
    }

    @Test func noErrorPathPrintsTheToken() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let home = directory + "/home"
        let cases: [(String, [String: String], String)] = [
            ("unreachable, token with CRLF", ["COFFER_ADDR": "http://127.0.0.1:1", "COFFER_TOKEN": Self.canary + "\r\n"], "cannot reach Coffer"),
            (
                "unreachable, credentials in the address", ["COFFER_ADDR": "http://u:CANARY@127.0.0.1:1", "COFFER_TOKEN": Self.canary],
                "http://…@127.0.0.1:1"
            ),
            ("inner space", ["COFFER_ADDR": server.address, "COFFER_TOKEN": "cft_CANARY " + Self.canary], "COFFER_TOKEN"),
            ("control character", ["COFFER_ADDR": server.address, "VAULT_TOKEN": Self.canary + "\u{7}x"], "VAULT_TOKEN"),
            ("non-ASCII", ["COFFER_ADDR": server.address, "COFFER_TOKEN": Self.canary + "é"], "COFFER_TOKEN"),
            ("refused by the server", ["COFFER_ADDR": server.address, "COFFER_TOKEN": Self.canary], "UNAUTHENTICATED"),
        ]
        for (name, env, expected) in cases {
            let result = try CofferBinary.run(["kv", "get", "app/prod"], home: home, env: env)
            #expect(result.status != 0, "\(name)")
            #expect(result.stderr.contains(expected), "\(name): \(result.stderr)")
            #expect(!result.stderr.contains("CANARY") && !result.stdout.contains("CANARY"), "\(name) printed the token: \(result.stderr)")
        }
    }

    /// `coffer login` validates the token it is given the same way, and is not blocked by a bad
    /// `COFFER_TOKEN` left in the environment.
    @Test func loginValidatesItsTokenAndIgnoresABadEnvironmentToken() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let token = try #require(server.rootToken)
        let home = directory + "/home"
        let env = ["COFFER_ADDR": server.address, "COFFER_TOKEN": "bad token " + Self.canary]
        let refused = try CofferBinary.run(["login"], home: home, env: env, stdin: "cft_CANARY \u{1}" + Self.canary + "\n")
        #expect(refused.status != 0 && refused.stderr.contains("standard input"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("CANARY") && !refused.stdout.contains("CANARY"))
        let accepted = try CofferBinary.run(["login"], home: home, env: env, stdin: token + "\r\n")
        #expect(accepted.status == 0 && accepted.stdout.contains("Logged in"), "\(accepted.stderr)")
    }
}

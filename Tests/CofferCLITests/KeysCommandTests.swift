import CofferCLI
import CofferCore
import CofferServer
import CofferTestSupport
import Foundation
import Testing

@Suite("CLI: keys")
struct KeysCommandTests {
    @Test func checkWorksOfflineAndSaysWhy() throws {
        let directory = try CofferBinary.scratch()
        let key = APIKeyFormat.generate(.live)
        let good = try CofferBinary.run(["keys", "check", key], home: directory)
        #expect(good.status == 0 && good.stdout.contains("OK") && !good.stdout.contains(key), "only the prefix is echoed")
        let typo = String(key.dropLast()) + (key.hasSuffix("a") ? "b" : "a")
        let bad = try CofferBinary.run(["keys", "check", typo], home: directory)
        #expect(bad.status == 1 && bad.stdout.contains("checksum"))
        #expect(try CofferBinary.run(["keys", "check", "-"], home: directory, stdin: key + "\n").status == 0, "read from stdin")
        #expect(try CofferBinary.run(["keys", "check", "ghp_" + String(key.dropFirst(8))], home: directory).stdout.contains("sk_live_"))
    }

    @Test func lifecycleThroughTheBinary() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        func coffer(_ arguments: [String], env: [String: String] = [:], stdin: String? = nil) throws -> CofferBinary.Result {
            try CofferBinary.run(arguments, home: directory + "/home", env: ["COFFER_ADDR": server.address].merging(env) { $1 }, stdin: stdin)
        }
        let created = try coffer([
            "keys", "create", "--name", "billing", "--scope", "orders:read", "--ttl", "30d", "--allow-ip", "10.0.0.0/8", "--rate-limit", "50/1m",
            "--quota", "1000/day", "--meta", "team=payments",
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let key = try #require(ServerProcess.firstMatch(in: created.stdout, prefix: "sk_test_"))
        let id = try #require(ServerProcess.firstMatch(in: created.stdout, prefix: "key_"))
        #expect(created.stdout.contains("shown once"))

        let listed = try coffer(["keys", "list"])
        #expect(listed.stdout.contains(id) && !listed.stdout.contains(key), "list never shows the key")
        #expect(try coffer(["keys", "show", id, "--json"]).stdout.contains("\"team\" : \"payments\""))

        let verified = try coffer(["keys", "verify", "-", "--scope", "orders:read", "--ip", "10.2.3.4"], stdin: key + "\n")
        #expect(verified.status == 0 && verified.stdout.contains("\"code\" : \"VALID\""))
        let wrongIP = try coffer(["keys", "verify", key, "--ip", "192.168.1.1"])
        #expect(wrongIP.status == 1 && wrongIP.stdout.contains("FORBIDDEN_IP"))

        #expect(try coffer(["keys", "update", id, "--any-ip", "--name", "billing-2"]).stdout.contains("billing-2"))
        #expect(try coffer(["keys", "verify", key]).status == 0, "no allow-list any more")

        let rotated = try coffer(["keys", "rotate", id, "--grace", "0", "--quiet"])
        let newKey = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rotated.status == 0 && newKey.hasPrefix("sk_test_") && newKey != key)
        #expect(try coffer(["keys", "verify", key]).stdout.contains("EXPIRED"), "grace 0 ends the old key at once")
        #expect(try coffer(["keys", "verify", newKey]).status == 0)

        let ids = try coffer(["keys", "list"]).stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        let newID = try #require(ids.first { $0.hasPrefix("key_") && $0 != id })
        let revoked = try coffer(["keys", "revoke", newID, "--reason", "rotated out by test"])
        #expect(revoked.stdout.contains("rotated out by test"))
        let refused = try coffer(["keys", "verify", newKey])
        #expect(refused.status == 1 && refused.stdout.contains("REVOKED"))

        // The key authenticates the CLI itself, within its scopes.
        let reader = try coffer(["keys", "create", "--name", "reader", "--scope", "kv:read:secret/app/*", "--quiet"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try coffer(["kv", "put", "app/db", "password=p"]).status == 0)
        #expect(try coffer(["kv", "get", "app/db", "--field", "password"], env: ["COFFER_TOKEN": reader]).stdout == "p\n")
        #expect(try coffer(["kv", "put", "app/db", "password=q"], env: ["COFFER_TOKEN": reader]).stderr.contains("PERMISSION_DENIED"))
        let log = server.stdout + server.stderr
        #expect(!log.contains(key) && !log.contains(newKey) && !log.contains(reader), "keys never reach the server log")
    }

    @Test func rateLimitSettingsLoadFromFileAndEnvironment() throws {
        var configuration = ServerConfiguration()
        try ConfigFile.apply(
            try ConfigFile.parse(
                "[rate_limits]\nanonymous = 5\nauthenticated = 50\nservice = 500\ntenant = 5000\n[api_keys]\nusage_flush_seconds = 2\n"),
            to: &configuration)
        #expect(configuration.rateLimits.anonymousPerMinute == 5 && configuration.rateLimits.tenantPerMinute == 5000)
        #expect(configuration.apiKeyUsageFlushSeconds == 2)
        try ConfigFile.applyEnvironment(["COFFER_RATE_LIMIT_SERVICE": "0"], to: &configuration)
        #expect(configuration.rateLimits.servicePerMinute == 0)
        expectError(.configInvalid) { try ConfigFile.applyEnvironment(["COFFER_RATE_LIMIT_ANONYMOUS": "many"], to: &configuration) }
        configuration.rateLimits.authenticatedPerMinute = -1
        expectError(.configInvalid) { try configuration.validate() }
    }
}

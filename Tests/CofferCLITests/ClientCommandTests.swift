import CofferCore
import CofferTestSupport
import Foundation
import Testing

@Suite("CLI: client commands, run, export, hvac")
struct ClientCommandTests {
    struct Session {
        let server: ServerProcess
        let home: String
        let directory: String
        func coffer(_ arguments: [String], env: [String: String] = [:], stdin: String? = nil) throws -> CofferBinary.Result {
            try CofferBinary.run(arguments, home: home, env: ["COFFER_ADDR": server.address].merging(env) { $1 }, stdin: stdin)
        }
    }

    static func session() throws -> Session {
        let directory = try CofferBinary.scratch()
        return Session(
            server: try ServerProcess.start(["dev", "--port", "0"], directory: directory), home: directory + "/home", directory: directory)
    }

    @Test func kvCommandsRoundTrip() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        #expect(try s.coffer(["kv", "put", "app/prod", "DB_PASSWORD=first", "API_KEY=k1"]).stdout == "Wrote app/prod version 1\n")
        let stale = try s.coffer(["kv", "put", "app/prod", "DB_PASSWORD=x", "--cas", "0"])
        #expect(stale.status == 1 && stale.stderr.contains("CAS_MISMATCH") && stale.stderr.contains("request id"))
        try "from-file\n".write(toFile: s.directory + "/value.txt", atomically: true, encoding: .utf8)
        #expect(try s.coffer(["kv", "put", "app/prod", "DB_PASSWORD=second", "CERT=@\(s.directory)/value.txt", "--cas", "1"]).status == 0)
        #expect(try s.coffer(["kv", "get", "app/prod", "--field", "CERT"]).stdout == "from-file\n\n")
        #expect(try s.coffer(["kv", "get", "app/prod", "--version", "1", "--field", "DB_PASSWORD"]).stdout == "first\n")
        #expect(try s.coffer(["kv", "list"]).stdout == "app/\n")
        #expect(try s.coffer(["kv", "list", "app"]).stdout == "prod\n")
        #expect(try s.coffer(["kv", "delete", "app/prod"]).status == 0)
        let deleted = try s.coffer(["kv", "get", "app/prod"])
        #expect(deleted.status == 1 && deleted.stderr.contains("deleted"))
        #expect(try s.coffer(["kv", "undelete", "app/prod", "--versions", "2"]).status == 0)
        #expect(try s.coffer(["kv", "destroy", "app/prod", "--versions", "1"]).status == 0)
        let history = try s.coffer(["kv", "history", "app/prod"]).stdout
        #expect(history.contains("destroyed") && history.contains("current"))
        #expect(try s.coffer(["kv", "metadata", "put", "app/prod", "--max-versions", "3", "--custom", "team=payments"]).status == 0)
        #expect(try s.coffer(["kv", "metadata", "get", "app/prod", "--format", "json"]).stdout.contains("\"team\" : \"payments\""))
        let metadataTable = try s.coffer(["kv", "metadata", "get", "app/prod"]).stdout.split(separator: "\n")
        #expect(metadataTable.contains { $0.hasPrefix("custom_metadata.team ") && $0.hasSuffix("  payments") })
        #expect(try s.coffer(["kv", "get", "nope"]).status == 1)
        #expect(try s.coffer(["kv", "metadata", "delete", "app/prod"]).status == 0)
        #expect(try s.coffer(["kv", "list"]).status == 1)
    }

    @Test func tokensTenantsLoginAndKeyring() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        let created = try s.coffer(["token", "create", "--role", "viewer", "--ttl", "1h", "--quiet"])
        let viewer = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(AccessToken.looksValid(viewer))
        #expect(try s.coffer(["kv", "put", "x", "a=b"], env: ["COFFER_TOKEN": viewer]).stderr.contains("PERMISSION_DENIED"))
        #expect(try s.coffer(["token", "lookup", "--format", "json"], env: ["VAULT_TOKEN": viewer]).stdout.contains("\"coffer_role\" : \"viewer\""))
        #expect(try s.coffer(["token", "lookup"], env: ["VAULT_TOKEN": viewer]).stdout.contains("coffer_role"))

        let tenant = try s.coffer(["tenant", "create", "payments", "--environment", "production"])
        let admin = try #require(ServerProcess.firstMatch(in: tenant.stdout, prefix: "cft_"))
        #expect(try s.coffer(["tenant", "list"]).stdout == "payments\tproduction\nroot\tdevelopment\n")
        #expect(try s.coffer(["kv", "list", "--tenant", "payments"]).stderr.contains("TENANT_MISMATCH"))

        let login = try s.coffer(["login"], stdin: admin + "\n")
        #expect(login.status == 0 && login.stdout.contains("tenant payments"), "\(login.stderr)")
        #expect(try s.coffer(["kv", "put", "p", "k=v"]).status == 0)
        #expect(try s.coffer(["kv", "get", "p", "--field", "k", "--tenant", "payments"]).stdout == "v\n")
        #expect(try s.coffer(["login"], stdin: "cft_bogus\n").status == 1)

        #expect(try s.coffer(["keyring", "rotate"]).stdout == "Active data-key version: 2\n")
        // A background job run by the server's leader; without a terminal the progress is plain lines.
        let reencrypted = try s.coffer(["keyring", "reencrypt", "--batch-size", "10"])
        #expect(reencrypted.status == 0, "\(reencrypted.stderr)")
        #expect(reencrypted.stdout.contains("Started re-encryption job rej_"), "\(reencrypted.stdout)")
        #expect(reencrypted.stdout.contains("Progress: 100.0%  1/1 rows"), "\(reencrypted.stdout)")
        #expect(reencrypted.stdout.contains("Re-encrypted 1 rows to data key 2"), "\(reencrypted.stdout)")
        #expect(!reencrypted.stdout.contains("\r"))
        let audit = try s.coffer(["keyring", "audit", "--key-version", "1"])
        #expect(audit.stdout.hasSuffix("Data-key version 1 (active: 2) is used by nothing\n"), "\(audit.stdout)")
        #expect(
            try s.coffer(["keyring", "audit", "--key-version", "2"]).stdout
                == "kv       secret/p version 1\nData-key version 2 (active: 2) is used by 1 KV version\n")
        #expect(try s.coffer(["keyring", "audit", "--key-version", "9"]).stderr.contains("NOT_FOUND"))
        let policy = try s.coffer(["keyring", "policy", "--schedule", "@monthly", "--retain-old-keys", "1"])
        #expect(policy.stdout.contains("\"schedule\" : \"@monthly\"") && policy.stdout.contains("\"retain_old_keys\" : 1"), "\(policy.stdout)")
        #expect(try s.coffer(["keyring", "policy", "--schedule", "0 0 31 2 *"]).stderr.contains("INVALID_REQUEST"))
        #expect(try s.coffer(["keyring", "jobs"]).stdout.contains("completed"))
        #expect(try s.coffer(["keyring", "status"]).stdout.contains("\"active_version\" : 2"))
        #expect(try s.coffer(["token", "revoke"]).status == 0)
        #expect(try s.coffer(["kv", "get", "p"]).stderr.contains("UNAUTHENTICATED"))
    }

    @Test func runInjectsSecretsForwardsSignalsAndExitCode() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        #expect(try s.coffer(["kv", "put", "svc", "DB_URL=postgres://db/x", "GREETING=hello world"]).status == 0)
        let result = try s.coffer(
            ["run", "--path", "svc", "--", "/bin/sh", "-c", "echo \"$GREETING|$DB_URL|${COFFER_TOKEN:-none}|${VAULT_TOKEN:-none}\"; exit 7"],
            env: ["COFFER_TOKEN": try #require(s.server.rootToken)])
        #expect(result.status == 7)
        #expect(result.stdout == "hello world|postgres://db/x|none|none\n")

        // The command replaces coffer: a signal sent to the pid we started reaches it.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CofferBinary.path)
        process.arguments = ["run", "--path", "svc", "--", "/bin/sh", "-c", "trap 'exit 42' TERM; echo started; while true; do sleep 0.05; done"]
        process.environment = CofferBinary.environment(home: s.home, ["COFFER_ADDR": s.server.address])
        let out = Pipe()
        process.standardOutput = out
        try process.runSerially()
        let line = out.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self).contains("started"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 42)

        let missing = try s.coffer(["run", "--path", "svc", "--", "/no/such/program"])
        #expect(missing.status != 0 && missing.stderr.contains("command not found"))
    }

    @Test func exportFormats() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        #expect(try s.coffer(["kv", "put", "exp", "PLAIN=abc", "QUOTE=it's", "MULTI=-"], stdin: "line1\nline2").status == 0)
        #expect(try s.coffer(["export", "--path", "exp"]).stdout == "MULTI='line1\nline2'\nPLAIN='abc'\nQUOTE=\"it's\"\n")
        #expect(
            try s.coffer(["export", "--path", "exp", "--format", "shell"]).stdout
                == "export MULTI='line1\nline2'\nexport PLAIN='abc'\nexport QUOTE='it'\\''s'\n")
        let json = try s.coffer(["export", "--path", "exp", "--format", "json"]).stdout
        #expect(JSONValue.parse(Array(json.utf8)) == ["MULTI": "line1\nline2", "PLAIN": "abc", "QUOTE": "it's"])
        #expect(
            try s.coffer(["export", "--path", "exp", "--format", "yaml"]).stdout
                == "\"MULTI\": \"line1\\nline2\"\n\"PLAIN\": \"abc\"\n\"QUOTE\": \"it's\"\n")
        let docker = try s.coffer(["export", "--path", "exp", "--format", "docker"])
        #expect(
            docker.status == 1 && docker.stdout.isEmpty && docker.stderr.contains("cannot export MULTI as docker: its value contains a line break"))
    }

    /// The value, which the old dotenv output let run a command when sourced: dotenv refuses it
    /// (no quoting is read back the same by sh and python-dotenv) naming the key and not the value;
    /// the shell format carries it, and sourcing it runs nothing.
    @Test func exportNeverLetsAValueRunACommand() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        let hostile = "it's `echo PWNED >&2` $(echo PWNED >&2)"
        #expect(try s.coffer(["kv", "put", "evil", "TOKEN=-", "OK=fine"], stdin: hostile).status == 0)
        let dotenv = try s.coffer(["export", "--path", "evil"])
        #expect(dotenv.status == 1 && dotenv.stdout.isEmpty)
        #expect(dotenv.stderr.contains("cannot export TOKEN as dotenv") && dotenv.stderr.contains("--format shell"))
        #expect(!dotenv.stderr.contains("PWNED"))
        let shell = try s.coffer(["export", "--path", "evil", "--format", "shell"])
        try shell.stdout.write(toFile: s.directory + "/out.env", atomically: true, encoding: .utf8)
        for shellPath in ["/bin/sh", "/bin/bash"] {
            let sourced = try CofferBinary.runProgram(
                shellPath, ["-c", "set -a; . ./out.env; printf %s \"$TOKEN\""], environment: [:], cwd: s.directory)
            #expect(sourced.stdout == hostile && !sourced.stderr.contains("PWNED"), "\(shellPath)")
        }
    }

    /// The real, unmodified Python `hvac` client against a real `coffer dev` (CI installs hvac with pip).
    @Test func hvacClientInterop() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        let script = CofferBinary.packageRoot + "/Tests/Interop/hvac_interop.py"
        // The dev server's generated root key is the unseal key (the script seals and unseals last).
        let unsealKey = try String(contentsOfFile: s.directory + "/.coffer/root.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", script],
            environment: CofferBinary.environment(
                home: s.home,
                ["VAULT_ADDR": s.server.address, "VAULT_TOKEN": try #require(s.server.rootToken), "COFFER_UNSEAL_KEY": unsealKey]))
        #expect(result.status == 0, "hvac interop failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("all checks passed"))
    }

    /// hvac's userpass, AppRole and JWT logins against a real `coffer dev`, the JWT ones with ID tokens
    /// from a real OpenID Connect provider process (PyPI oidc-provider-mock, started by the script):
    /// discovery, key rotation at the provider, expiry, audience, issuer, missing claim, tampering.
    @Test func identityInterop() throws {
        let s = try Self.session()
        defer { s.server.stop() }
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Tests/Interop/identity_interop.py"],
            environment: CofferBinary.environment(
                home: s.home,
                ["VAULT_ADDR": s.server.address, "VAULT_TOKEN": try #require(s.server.rootToken), "COFFER_BIN": CofferBinary.path]))
        #expect(result.status == 0, "identity interop failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("all checks passed"))
    }

    /// Schemathesis against `coffer dev` with two tenants (`Tests/Interop/openapi_fuzz.py`): no 5xx, answers
    /// as the OpenAPI document says, no object of one tenant readable by the other.
    @Test func openAPIFuzzing() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Tests/Interop/openapi_fuzz.py"],
            environment: CofferBinary.environment(
                home: directory + "/home", ["VAULT_ADDR": server.address, "VAULT_TOKEN": try #require(server.rootToken)]))
        #expect(result.status == 0, "schemathesis run failed:\n\(result.stdout.suffix(20000))\n\(result.stderr.suffix(4000))")
        #expect(result.stdout.contains("all checks passed"))
        print(result.stdout)
    }

    @Test func alertsInterop() throws {
        let directory = try CofferBinary.scratch()
        // A free port for the SMTP server the script starts (aiosmtpd), given to coffer dev first.
        let smtpPort = FirstHourTests.freePort()
        let server = try ServerProcess.start(
            ["dev", "--port", "0"], directory: directory, env: ["COFFER_SMTP_HOST": "127.0.0.1", "COFFER_SMTP_PORT": String(smtpPort)])
        defer { server.stop() }
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Tests/Interop/alerts_interop.py"],
            environment: CofferBinary.environment(
                home: directory + "/home",
                [
                    "VAULT_ADDR": server.address, "VAULT_TOKEN": try #require(server.rootToken), "COFFER_BIN": CofferBinary.path,
                    "SMTP_PORT": String(smtpPort),
                ]))
        #expect(result.status == 0, "alerts interop failed:\n\(result.stdout)\n\(result.stderr)\nserver:\n\(server.stderr.suffix(6000))")
        #expect(result.stdout.contains("all checks passed"))
    }
}

import CofferCore
import Foundation
import Testing

/// A fresh PostgreSQL database initialised by `coffer operator init`, with `coffer serve` instances on
/// it; `close()` stops them and drops the database. As in production (README "Database roles"): the
/// owner (`COFFER_TEST_POSTGRES_URL`'s superuser) migrates, the servers run as `coffer_app` under
/// Row-Level Security.
final class PostgresDeployment: @unchecked Sendable {
    let directory: String
    let home: String
    /// The application role's URL (`coffer_app`).
    let url: String
    /// The owner's URL.
    let ownerURL: String
    let rootKey: String
    let rootToken: String
    let initStderr: String
    private(set) var servers: [ServerProcess] = []
    private let base: String
    private let name: String

    static var enabled: Bool { !(ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"] ?? "").isEmpty }

    init(prefix: String) throws {
        directory = try CofferBinary.scratch()
        home = directory + "/home"
        base = try #require(ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"])
        name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        let create = try CofferBinary.runProgram(
            "/usr/bin/env", ["psql", base, "-qc", "CREATE DATABASE \(name)"], environment: ProcessInfo.processInfo.environment)
        #expect(create.status == 0, "\(create.stderr)")
        var components = try #require(URLComponents(string: base))
        components.path = "/\(name)"
        ownerURL = try #require(components.string)
        let roles = try CofferBinary.runProgram(
            CofferBinary.packageRoot + "/scripts/pg-cluster.sh", ["roles", ownerURL], environment: ProcessInfo.processInfo.environment)
        #expect(roles.status == 0, "\(roles.stderr)")
        url = roles.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        rootKey = RootKey.generate().exportBase64()
        let initialised = try CofferBinary.run(
            ["operator", "init", "--storage", url], home: home, env: ["COFFER_ROOT_KEY": rootKey, "COFFER_STORAGE_MIGRATION_URL": ownerURL])
        initStderr = initialised.stderr
        rootToken = try #require(ServerProcess.firstMatch(in: initialised.stdout, prefix: "cft_"), "\(initialised.stderr)")
    }

    /// Starts one more `coffer serve` on the database.
    @discardableResult
    func serve() throws -> ServerProcess {
        let server = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", url], directory: directory, env: ["COFFER_ROOT_KEY": rootKey], readyMarker: "listening")
        servers.append(server)
        return server
    }

    func close() {
        for server in servers { server.stop() }
        _ = try? CofferBinary.runProgram(
            "/usr/bin/env", ["psql", base, "-qc", "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"], environment: ProcessInfo.processInfo.environment)
    }
}

@Suite("CLI: several instances on PostgreSQL, TLS")
struct SharedDeploymentTests {
    /// `coffer serve` refuses a database role that could bypass Row-Level Security (here the superuser
    /// that owns the tables) with CONFIG_INVALID, and starts on it only when that is explicitly allowed.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func serveRefusesARoleThatCanBypassRowSecurity() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_rls")
        defer { deployment.close() }
        let refused = try CofferBinary.run(
            ["serve", "--port", "0", "--storage", deployment.ownerURL], home: deployment.home, env: ["COFFER_ROOT_KEY": deployment.rootKey])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("CONFIG_INVALID") && refused.stderr.contains("is a superuser"), "\(refused.stderr)")
        #expect(refused.stderr.contains("storage.allow_rls_bypass"))
        let allowed = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", deployment.ownerURL], directory: deployment.directory,
            env: ["COFFER_ROOT_KEY": deployment.rootKey, "COFFER_STORAGE_ALLOW_RLS_BYPASS": "true"], readyMarker: "listening")
        defer { allowed.stop() }
        #expect(allowed.stderr.contains("can bypass Row-Level Security"), "the bypass is logged")
        let written = try CofferBinary.run(
            ["kv", "put", "allowed", "v=1"], home: deployment.home, env: ["COFFER_ADDR": allowed.address, "COFFER_TOKEN": deployment.rootToken])
        #expect(written.status == 0, "\(written.stderr)")
    }

    /// Two `coffer serve` processes on one PostgreSQL database behave as one vault.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func twoInstancesShareOnePostgres() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_cli")
        defer { deployment.close() }
        let home = deployment.home
        let root = deployment.rootToken
        #expect(!deployment.initStderr.contains("warning"), "\(deployment.initStderr)")
        let a = try deployment.serve()
        let b = try deployment.serve()
        let onA = ["COFFER_ADDR": a.address, "COFFER_TOKEN": root]
        let onB = ["COFFER_ADDR": b.address, "COFFER_TOKEN": root]
        #expect(try CofferBinary.run(["kv", "put", "shared", "v=1"], home: home, env: onA).status == 0)
        #expect(try CofferBinary.run(["kv", "put", "shared", "v=2", "--cas", "1"], home: home, env: onB).status == 0)
        #expect(try CofferBinary.run(["kv", "put", "shared", "v=3", "--cas", "1"], home: home, env: onA).stderr.contains("CAS_MISMATCH"))
        #expect(try CofferBinary.run(["kv", "get", "shared", "--field", "v"], home: home, env: onA).stdout == "2\n")

        let viewer = try CofferBinary.run(["token", "create", "--role", "viewer", "--quiet"], home: home, env: onA).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try CofferBinary.run(["kv", "get", "shared"], home: home, env: ["COFFER_ADDR": b.address, "COFFER_TOKEN": viewer]).status == 0)
        #expect(try CofferBinary.run(["token", "revoke"], home: home, env: ["COFFER_ADDR": a.address, "COFFER_TOKEN": viewer]).status == 0)
        let afterRevoke = try CofferBinary.run(["kv", "get", "shared"], home: home, env: ["COFFER_ADDR": b.address, "COFFER_TOKEN": viewer])
        #expect(afterRevoke.stderr.contains("UNAUTHENTICATED"), "a revocation on one instance holds on the other at once")

        // API keys: revocation and rate-limit counters are shared through PostgreSQL.
        let created = try CofferBinary.run(["keys", "create", "--name", "shared", "--rate-limit", "3/1m"], home: home, env: onA).stdout
        let apiKey = try #require(ServerProcess.firstMatch(in: created, prefix: "sk_"))
        let keyID = try #require(ServerProcess.firstMatch(in: created, prefix: "key_"))
        let codes = try [onA, onB, onA, onB].map { env in
            try CofferBinary.run(["keys", "verify", apiKey], home: home, env: env).stdout.contains("\"code\" : \"VALID\"")
        }
        #expect(codes == [true, true, true, false], "3 per minute across both instances, not per instance")
        let limited = try CofferBinary.run(["keys", "verify", apiKey], home: home, env: onA).stdout
        #expect(limited.contains("RATE_LIMITED"))
        #expect(try CofferBinary.run(["keys", "revoke", keyID], home: home, env: onB).status == 0)
        #expect(try CofferBinary.run(["keys", "verify", apiKey], home: home, env: onA).stdout.contains("REVOKED"), "revoked on B, refused on A")
        // A signed gateway request accepted by A is a replay on B: nonces are shared through PostgreSQL.
        #expect(try CofferBinary.run(["kv", "put", "gateway/clients", "BACKEND=shared-instance-secret"], home: home, env: onA).status == 0)
        let project = """
            {"enabled": true, "providers": {"p": {"base_url": "http://127.0.0.1:1/v2", "allow_internal": true}},
             "routes": {"order": {"method": "POST", "path": "/orders", "provider": "p", "body": {"type": "object", "additionalProperties": true}},
                        "forecast": {"method": "GET", "path": "/forecast/{city}", "provider": "p", "query": {"units": {"type": "string"}}}},
             "clients": {"backend": {"key_id": "backend-1", "algorithm": "hmac-sha256", "secret": "secret/gateway/clients#BACKEND"}}}
            """
        #expect(try CofferBinary.run(["gateway", "project", "put", "weather", "--file", "-"], home: home, env: onA, stdin: project).status == 0)
        let signer = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Tests/Interop/gateway_signatures.py"],
            environment: ProcessInfo.processInfo.environment.merging([
                "COFFER_CALL": a.address + "/v1/gateway/root/weather/call", "REPLAY_CALL": b.address + "/v1/gateway/root/weather/call",
                "HMAC_SECRET": "shared-instance-secret", "ED25519_PRIVATE": Data(repeating: 7, count: 32).base64EncodedString(),
            ]) { $1 })
        #expect(signer.status == 0, "\(signer.stderr)")
        let outcomes = signer.stdout.split(separator: "\n").map(String.init)
        #expect(outcomes.contains("hmac_ok 502 UPSTREAM_UNAVAILABLE"), "accepted on A, then the stand-in upstream is down: \(outcomes)")
        #expect(outcomes.contains("replay 401 SIGNATURE_REPLAYED") && outcomes.contains("replay_other_instance 401 SIGNATURE_REPLAYED"))
        // postgres-nio's "run() hasn't been called yet" (or any other warning) never appears in normal operation; the
        // replayed signatures above raise signature_failure alerts, which the log channel writes as warnings.
        for server in [a, b] {
            let warnings = server.stderr.split(separator: "\n").filter { $0.contains(" warning ") && !$0.contains("alert_id=") }
            #expect(!server.stderr.contains("hasn't been called yet") && warnings.isEmpty, "\(warnings)")
        }
        // One alert for the replays on both instances, told once (the alert and its cool-down are shared).
        #expect([a, b].filter { $0.stderr.contains("rule=signature_failure") }.count == 1, "the replay raised one alert")
    }

    /// With a certificate configured: TLS 1.2+ only, and HSTS on every response.
    /// Background jobs run on exactly one instance; when it dies (kill -9) another takes over within seconds.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func backgroundJobLeadershipHandsOver() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_lead")
        defer { deployment.close() }
        let a = try deployment.serve()
        let b = try deployment.serve()
        let leads = "background jobs: this instance leads"
        func waitFor(_ condition: () -> Bool, seconds: Double) -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if condition() { return Date().timeIntervalSince(start) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return nil
        }
        #expect(waitFor({ a.stderr.contains(leads) || b.stderr.contains(leads) }, seconds: 10) != nil)
        Thread.sleep(forTimeInterval: 3)
        let leaders = [a, b].filter { $0.stderr.contains(leads) }
        #expect(leaders.count == 1, "exactly one leader")
        guard let leader = leaders.first else { return }
        let follower = leader === a ? b : a
        leader.kill9()
        let handover = waitFor({ follower.stderr.contains(leads) }, seconds: 15)
        #expect(handover != nil && (handover ?? 99) < 10, "the follower leads within seconds of the leader's death: \(String(describing: handover))")
        print("background-job leadership handed over in \(String(format: "%.2f", handover ?? -1)) s")
    }

    /// A re-encryption job survives its runner: the leader is killed (kill -9) mid-job, the other
    /// instance takes the lead and finishes the job from its saved cursor; nothing stays under the old key.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func aReencryptionJobSurvivesItsLeadersDeath() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_rej")
        defer { deployment.close() }
        let rows = 3000
        let fill = try CofferBinary.run(
            ["operator", "kv-fill", "--storage", deployment.url, "--count", String(rows), "--batch", "1000"], home: deployment.home,
            env: ["COFFER_ROOT_KEY": deployment.rootKey])
        #expect(fill.status == 0, "\(fill.stderr)")
        let a = try deployment.serve()
        let b = try deployment.serve()
        func call(_ server: ServerProcess, _ method: String, _ path: String, _ body: String? = nil) throws -> JSONValue {
            var arguments = ["-s", "-X", method, "-H", "X-Vault-Token: \(deployment.rootToken)"]
            if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
            let answer = try CofferBinary.runProgram("/usr/bin/curl", arguments + [server.address + path], environment: [:]).stdout
            return JSONValue.parse(Array(answer.utf8)) ?? .null
        }
        func waitFor(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                if try condition() { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return false
        }
        let leads = "background jobs: this instance leads"
        #expect(waitFor(seconds: 10) { a.stderr.contains(leads) || b.stderr.contains(leads) })
        let leader = try #require([a, b].first { $0.stderr.contains(leads) })
        let follower = leader === a ? b : a
        #expect(try call(a, "POST", "/v1/sys/keyring/rotate")["data"]?["active_version"] == 2)
        // 500 rows a second: about six seconds of work, so the kill lands mid-job.
        let started = try call(follower, "POST", "/v1/sys/keyring/jobs", #"{"batch_size": 100, "throttle": 500}"#)["data"] ?? .null
        let id = try #require(started["id"]?.stringValue, "\(started)")
        #expect(started["total"]?.intValue == rows)
        var before = 0
        #expect(
            try waitFor(seconds: 20) {
                before = try call(follower, "GET", "/v1/keyring/jobs/\(id)")["data"]?["done"]?.intValue ?? 0
                return before >= 500
            })
        leader.kill9()
        var job: JSONValue = .null
        #expect(
            try waitFor(seconds: 40) {
                job = try call(follower, "GET", "/v1/sys/keyring/jobs/\(id)")["data"] ?? .null
                return job["state"]?.stringValue != "running"
            })
        #expect(job["state"] == "completed", "\(job)")
        #expect(follower.stderr.contains(leads), "the follower took the lead")
        let done = job["done"]?.intValue ?? 0
        // Pages committed after the first leader's last progress save are counted when the job resumes.
        #expect(done == rows, "\(job)")
        #expect(try call(follower, "GET", "/v1/sys/keyring/usage/1")["data"]?["kv_versions"] == 0)
        #expect(try call(follower, "GET", "/v1/sys/keyring/usage/2")["data"]?["kv_versions"]?.intValue == rows)
        print("re-encryption job handed over: \(before) rows done by the first leader, completed with \(done) by the second")
    }

    /// Three instances cache tokens; a revocation on one is refused on the others once PostgreSQL
    /// delivers its change notification (well within the 1 s bound on a cached entry's age).
    @Test(.enabled(if: PostgresDeployment.enabled))
    func revocationsPropagateToEveryInstance() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_prop")
        defer { deployment.close() }
        let root = deployment.rootToken
        let servers = try (0..<3).map { _ in try deployment.serve() }
        let result = try CofferBinary.runProgram(
            "/usr/bin/env",
            ["python3", CofferBinary.packageRoot + "/Benchmarks/scaleout/propagation.py", root] + servers.map(\.address) + ["--rounds", "100"],
            environment: ProcessInfo.processInfo.environment)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        print(result.stdout)
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let parsed = try #require(JSONValue.parse(Array(summary.utf8)))
        guard case .array(let instances) = parsed["instances"] ?? .null else { throw CofferError(.internalError, summary) }
        #expect(instances.count == 2)
        for instance in instances {
            guard case .number(let number)? = instance["max_ms"], let worst = number.doubleValue else { throw CofferError(.internalError, summary) }
            // Under the 1 s bound on a cached entry: the notification, not the expiry, refused it.
            #expect(worst < 900, "a revocation took \(worst) ms to reach \(instance)")
        }
    }

    /// The chaos test (`Benchmarks/scaleout/chaos.py`, its own PostgreSQL cluster): three instances under
    /// mixed load, one killed with SIGKILL and restarted, PostgreSQL restarted; no acknowledged write lost,
    /// no 5xx outside the reconnect window, no instance left stuck, audit chains intact, the shared limit kept.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func chaosKillAnInstanceAndRestartPostgres() throws {
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Benchmarks/scaleout/chaos.py", CofferBinary.path, "--duration", "30"],
            environment: ProcessInfo.processInfo.environment)
        print(result.stdout)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr.suffix(4000))")
        let summary = try #require(JSONValue.parse(Array((result.stdout.split(separator: "\n").last.map(String.init) ?? "").utf8)))
        #expect(summary["lost_writes"]?.intValue == 0 && summary["5xx_outside_window"]?.intValue == 0)
        #expect((summary["acknowledged_writes"]?.intValue ?? 0) > 100, "the load really wrote")
        #expect(summary["stuck_instances"] == .array([]))
        #expect(summary["rate_limit"]?["within_bound"] == true)
        #expect(summary["audit"]?["first"]?["ok"] == true && summary["audit"]?["second"]?["ok"] == true)
    }

    /// Transit keys are cached on every instance; a rotation on one is used by the others at once.
    @Test(.enabled(if: PostgresDeployment.enabled))
    func transitRotationReachesOtherInstancesCaches() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_trc")
        defer { deployment.close() }
        let a = try deployment.serve()
        let b = try deployment.serve()
        func post(_ server: ServerProcess, _ path: String, _ body: String) throws -> String {
            try CofferBinary.runProgram(
                "/usr/bin/curl",
                ["-s", "-H", "X-Vault-Token: \(deployment.rootToken)", "-H", "Content-Type: application/json", "-d", body, server.address + path],
                environment: [:]
            ).stdout
        }
        let plaintext = Data("rotate".utf8).base64EncodedString()
        _ = try post(a, "/v1/transit/keys/shared", "{}")
        #expect(try post(b, "/v1/transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}").contains("vault:v1:"), "cached on b")
        _ = try post(a, "/v1/transit/keys/shared/rotate", "{}")
        let start = Date()
        var seen = ""
        while Date().timeIntervalSince(start) < 3 {
            seen = try post(b, "/v1/transit/encrypt/shared", "{\"plaintext\":\"\(plaintext)\"}")
            if seen.contains("vault:v2:") { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        // Under the 1 s age bound: the change notification, not the expiry, dropped the cached key.
        #expect(seen.contains("vault:v2:") && Date().timeIntervalSince(start) < 0.9, "b uses the rotated key: \(seen)")
    }

    /// The unmodified hvac client against `coffer serve` on PostgreSQL (the same script as on `coffer dev`).
    @Test(.enabled(if: PostgresDeployment.enabled))
    func hvacInteropOnPostgres() throws {
        let deployment = try PostgresDeployment(prefix: "coffer_hvac")
        defer { deployment.close() }
        let server = try deployment.serve()
        let (home, root, rootKey) = (deployment.home, deployment.rootToken, deployment.rootKey)
        let result = try CofferBinary.runProgram(
            "/usr/bin/env", ["python3", CofferBinary.packageRoot + "/Tests/Interop/hvac_interop.py"],
            environment: CofferBinary.environment(
                home: home, ["VAULT_ADDR": server.address, "VAULT_TOKEN": root, "COFFER_UNSEAL_KEY": rootKey]))
        #expect(result.status == 0, "hvac interop on PostgreSQL failed:\n\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("all checks passed"))
    }

    @Test func tlsServesWithHSTSAndRefusesOldProtocols() throws {
        let directory = try CofferBinary.scratch()
        let openssl = try CofferBinary.runProgram(
            "/usr/bin/env",
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", directory + "/tls.key", "-out", directory + "/tls.crt",
            ],
            environment: ProcessInfo.processInfo.environment)
        #expect(openssl.status == 0, "\(openssl.stderr)")
        let env = [
            "COFFER_ROOT_KEY": RootKey.generate().exportBase64(), "COFFER_TLS_CERT_FILE": directory + "/tls.crt",
            "COFFER_TLS_KEY_FILE": directory + "/tls.key",
        ]
        let server = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", "sqlite://\(directory)/tls.db"], directory: directory, env: env, readyMarker: "listening")
        defer { server.stop() }
        #expect(server.address.hasPrefix("https://"))
        let ok = try CofferBinary.runProgram("/usr/bin/curl", ["-sk", "-D", "-", server.address + "/v1/sys/health"], environment: [:])
        #expect(
            ok.stdout.contains("strict-transport-security: max-age=31536000") || ok.stdout.contains("Strict-Transport-Security: max-age=31536000"))
        #expect(ok.stdout.contains("\"initialized\":false"))
        let old = try CofferBinary.runProgram(
            "/usr/bin/curl", ["-sk", "--tlsv1.1", "--tls-max", "1.1", server.address + "/v1/sys/health"], environment: [:])
        #expect(old.status != 0, "TLS 1.1 must be refused")
        let plain = try CofferBinary.runProgram(
            "/usr/bin/curl", ["-s", server.address.replacingOccurrences(of: "https://", with: "http://") + "/v1/sys/health"], environment: [:])
        #expect(!plain.stdout.contains("initialized"))
    }
}

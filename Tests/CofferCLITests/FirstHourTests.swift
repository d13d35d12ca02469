import CofferCore
import Foundation
import Testing

/// The mistakes of a first hour with Coffer, through the real binary: each answer is one line that
/// names the address (or variable) and the fix, comes in seconds, and never holds the token.
@Suite("CLI: the first hour (dev start-up, connection errors, TLS trust, storage errors)")
struct FirstHourTests {
    static let canary = "cft_CANARYcanaryCANARYcanaryCANARYcanary0123"

    /// A free TCP port, from the kernel.
    static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The issue's steps: a second `coffer dev` on a taken port, from another folder, creates nothing and
    /// leaves the saved token alone; a third one on a free port keeps the token file of the first,
    /// which still accepts it, and says so.
    @Test func aSecondDevServerNeitherCreatesAVaultNorTakesTheTokenFile() throws {
        let root = try CofferBinary.scratch()
        let home = root + "/home"
        let port = Self.freePort()
        let first = try ServerProcess.start(["dev", "--port", "\(port)"], directory: root)
        defer { first.stop() }
        let tokenFile = home + "/.config/coffer/token"
        let saved = try String(contentsOfFile: tokenFile, encoding: .utf8)
        #expect(saved == (first.rootToken ?? "") + "\n")

        let other = root + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let started = Date()
        let second = try CofferBinary.run(["dev", "--port", "\(port)"], home: home, cwd: other)
        #expect(second.status == 1)
        #expect(second.stderr.contains("cannot listen on 127.0.0.1:\(port): Address already in use") && second.stderr.contains("--port"))
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(!FileManager.default.fileExists(atPath: other + "/.coffer"), "a failed start made a vault")
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == saved, "a failed start replaced the token file")

        let third = try ServerProcess.start(["dev", "--port", "0"], directory: other, env: ["COFFER_ADDR": first.address, "HOME": home])
        defer { third.stop() }
        #expect(third.rootToken != nil)
        #expect(third.stdout.contains("belongs to the server at \(first.address) and was left as it is"))
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == saved)
        #expect(try CofferBinary.run(["kv", "put", "a/b", "k=v"], home: home, env: ["COFFER_ADDR": first.address]).status == 0)

        // A token file no running server accepts is replaced, and the banner says so.
        first.stop()
        let fourth = try ServerProcess.start(
            ["dev", "--port", "0", "--data-dir", other + "/fourth"], directory: other, env: ["COFFER_ADDR": first.address, "HOME": home])
        defer { fourth.stop() }
        #expect(fourth.stdout.contains("replacing a token no running server accepts"))
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == (fourth.rootToken ?? "") + "\n")
    }

    /// Ctrl-C (SIGINT) stops `coffer dev` cleanly: exit 0, no warning or error lines.
    @Test func interruptShutsDownWithoutWarnings() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        kill(server.process.processIdentifier, SIGINT)
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        let noisy = server.stderr.split(separator: "\n").filter { $0.contains(" warning ") || $0.contains(" error ") || $0.contains("Error") }
        #expect(noisy.isEmpty, "\(noisy)")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let address: String
        let expected: String
        var testDescription: String { address.isEmpty ? "(empty)" : address }
    }

    /// Each malformed or unreachable address is one line naming it and the fix, within seconds,
    /// with a canary token that never appears.
    @Test(arguments: [
        Case(address: "127.0.0.1:8200", expected: "COFFER_ADDR (127.0.0.1:8200) has no scheme; use http://127.0.0.1:8200"),
        Case(address: "", expected: "COFFER_ADDR is empty; set it to the server's URL"),
        Case(address: "http://127.0.0.1:1", expected: "cannot reach Coffer at http://127.0.0.1:1 (from COFFER_ADDR): connection refused"),
        Case(address: "ftp://127.0.0.1:8200", expected: "is not an http:// or https:// URL"),
        Case(address: "http://no-such-host.invalid:8200", expected: "the host name does not resolve"),
    ])
    func addressMistakesGetOneActionableLine(_ item: Case) throws {
        let home = try CofferBinary.scratch() + "/home"
        let started = Date()
        let result = try CofferBinary.run(["kv", "get", "app/prod"], home: home, env: ["COFFER_ADDR": item.address, "COFFER_TOKEN": Self.canary])
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(result.status == 1)
        #expect(result.stderr.contains(item.expected), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!result.stderr.contains(Self.canary) && !result.stdout.contains(Self.canary))
    }

    /// https against plain HTTP and the reverse, an untrusted certificate, then trust through every
    /// way the vault CLI offers (`--ca-cert`, `COFFER_CACERT`, `VAULT_CACERT`, `VAULT_CAPATH`) and
    /// `VAULT_SKIP_VERIFY` with its warning.
    @Test func tlsMistakesAndPrivateCertificateAuthorities() throws {
        let directory = try CofferBinary.scratch()
        let environment = ProcessInfo.processInfo.environment
        func openssl(_ arguments: [String]) throws {
            let result = try CofferBinary.runProgram("/usr/bin/env", ["openssl"] + arguments, environment: environment, cwd: directory)
            #expect(result.status == 0, "\(result.stderr)")
        }
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=Test CA", "-keyout",
            "ca.key", "-out", "ca.crt",
        ])
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-keyout", "tls.key", "-out",
            "tls.csr",
        ])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/ext", atomically: true, encoding: .utf8)
        try openssl([
            "x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "ext", "-out",
            "tls.crt",
        ])
        try FileManager.default.createDirectory(atPath: directory + "/cas", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory + "/ca.crt", toPath: directory + "/cas/ca.pem")

        let rootKey = RootKey.generate().exportBase64()
        let initialised = try CofferBinary.run(
            ["operator", "init", "--storage", "sqlite://\(directory)/tls.db"], home: directory + "/home", env: ["COFFER_ROOT_KEY": rootKey])
        let token = try #require(ServerProcess.firstMatch(in: initialised.stdout, prefix: "cft_"))
        let tls = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", "sqlite://\(directory)/tls.db"], directory: directory,
            env: ["COFFER_ROOT_KEY": rootKey, "COFFER_TLS_CERT_FILE": directory + "/tls.crt", "COFFER_TLS_KEY_FILE": directory + "/tls.key"],
            readyMarker: "listening")
        defer { tls.stop() }
        try FileManager.default.createDirectory(atPath: directory + "/plain-dev/home", withIntermediateDirectories: true)
        let plain = try ServerProcess.start(["dev", "--port", "0"], directory: directory + "/plain-dev")
        defer { plain.stop() }

        func client(_ env: [String: String], _ arguments: [String] = ["token", "lookup"]) throws -> (CofferBinary.Result, TimeInterval) {
            let started = Date()
            let result = try CofferBinary.run(arguments, home: directory + "/home", env: env)
            #expect(!result.stderr.contains(token) && !result.stderr.contains(Self.canary))
            return (result, Date().timeIntervalSince(started))
        }
        let httpsAddress = tls.address
        let httpToTLS = httpsAddress.replacingOccurrences(of: "https://", with: "http://")
        let httpsToPlain = plain.address.replacingOccurrences(of: "http://", with: "https://")

        let (untrusted, t1) = try client(["COFFER_ADDR": httpsAddress, "COFFER_TOKEN": token])
        #expect(untrusted.status == 1 && t1 < 5)
        #expect(untrusted.stderr.contains("its TLS certificate is not trusted") && untrusted.stderr.contains("--ca-cert"))

        let (wrongScheme, t2) = try client(["COFFER_ADDR": httpToTLS, "COFFER_TOKEN": Self.canary])
        #expect(wrongScheme.status == 1 && t2 < 5)
        #expect(wrongScheme.stderr.contains("if it uses TLS, use \(httpsAddress)"))

        let (tlsToPlain, t3) = try client(["COFFER_ADDR": httpsToPlain, "COFFER_TOKEN": Self.canary])
        #expect(tlsToPlain.status == 1 && t3 < 5, "took \(t3) s")
        #expect(tlsToPlain.stderr.contains("the TLS handshake failed; if the server does not use TLS, use \(plain.address)"), "\(tlsToPlain.stderr)")

        for env in [
            ["COFFER_CACERT": directory + "/ca.crt"], ["VAULT_CACERT": directory + "/ca.crt"], ["VAULT_CAPATH": directory + "/cas"],
        ] {
            let (trusted, _) = try client(["COFFER_ADDR": httpsAddress, "COFFER_TOKEN": token].merging(env) { $1 })
            #expect(trusted.status == 0 && trusted.stdout.contains("coffer_role"), "\(env): \(trusted.stderr)")
        }
        let (flag, _) = try client(["COFFER_ADDR": httpsAddress, "COFFER_TOKEN": token], ["token", "lookup", "--ca-cert", directory + "/ca.crt"])
        #expect(flag.status == 0)
        let (skipped, _) = try client(["COFFER_ADDR": httpsAddress, "COFFER_TOKEN": token, "VAULT_SKIP_VERIFY": "1"])
        #expect(skipped.status == 0 && skipped.stderr.contains("warning: TLS certificate verification is off"))
        let (notPEM, _) = try client(["COFFER_ADDR": httpsAddress, "COFFER_TOKEN": token, "COFFER_CACERT": directory + "/ext"])
        #expect(notPEM.status == 1 && notPEM.stderr.contains("holds no PEM certificate"))
    }

    /// Server answers: the code and message, never `HTTP_404: HTTP 404`; no token says how to log in.
    @Test func serverErrorsCarryTheirCodeAndMissingTokensSayHowToLogIn() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        let emptyHome = try CofferBinary.scratch() + "/home"
        let anonymous = try CofferBinary.run(["kv", "get", "app/prod"], home: emptyHome, env: ["COFFER_ADDR": server.address])
        #expect(anonymous.status == 1 && anonymous.stderr.contains("UNAUTHENTICATED") && anonymous.stderr.contains("coffer login"))
        let refused = try CofferBinary.run(
            ["kv", "get", "app/prod"], home: emptyHome, env: ["COFFER_ADDR": server.address, "COFFER_TOKEN": Self.canary])
        #expect(refused.stderr.contains("The token from COFFER_TOKEN was refused") && !refused.stderr.contains(Self.canary))
        let missing = try CofferBinary.run(["export", "--path", "nothing/here"], home: directory + "/home", env: ["COFFER_ADDR": server.address])
        #expect(missing.status == 1 && missing.stderr.contains("NOT_FOUND") && !missing.stderr.contains("HTTP_404"), "\(missing.stderr)")
        #expect(missing.stderr.contains("request id"))
    }

    /// `coffer serve` with a wrong PostgreSQL URL fails at once with one line saying which part is wrong.
    @Test func postgresMistakesFailFastWithOneLine() throws {
        let directory = try CofferBinary.scratch()
        let key = ["COFFER_ROOT_KEY": RootKey.generate().exportBase64()]
        var cases = [
            (
                "postgres://coffer:pw@127.0.0.1:1/coffer",
                "cannot connect to PostgreSQL at 127.0.0.1:1 (user coffer, database coffer): connection refused"
            )
        ]
        cases.append(("postgres://coffer@no-such-host.invalid:5432/coffer", "the host name does not resolve"))
        if let base = ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"], var components = URLComponents(string: base) {
            components.path = "/coffer_missing_database"
            cases.append((components.string ?? "", "the database does not exist; create it: createdb"))
        } else {
            print("FirstHourTests: COFFER_TEST_POSTGRES_URL not set; the missing-database case is skipped")
        }
        for (url, expected) in cases {
            let started = Date()
            let result = try CofferBinary.run(["serve", "--port", "0", "--storage", url], home: directory + "/home", env: key)
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(result.status == 1)
            #expect(result.stderr.contains("STORAGE_UNAVAILABLE") && result.stderr.contains(expected), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(!result.stderr.contains(":pw@") && !result.stderr.contains("PSQLError"))
        }
    }
}

import CofferCore
import Foundation
import Testing

@Suite("CLI: coffer dev, root key handling, durability")
struct DevServerTests {
    @Test func devStartsPrintsRootTokenOnceAndKeepsFilesPrivate() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        let token = try #require(server.rootToken)
        #expect(AccessToken.looksValid(token))
        print("coffer dev ready in \(String(format: "%.3f", server.startSeconds)) s")
        #expect(fileMode(directory + "/.coffer/root.key") == 0o600)
        #expect(fileMode(directory + "/.coffer/coffer.db") == 0o600)
        #expect(fileMode(directory + "/.coffer") == 0o700)
        #expect(fileMode(directory + "/home/.config/coffer/token") == 0o600)
        let health = try CofferBinary.runProgram("/usr/bin/curl", ["-s", server.address + "/v1/sys/health"], environment: [:])
        #expect(health.stdout.contains("\"initialized\":true"))
        server.stop()
        #expect(!server.stderr.contains(token), "the root token is printed to stdout once, never logged")

        let again = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        #expect(again.rootToken == nil)
        #expect(again.stdout.contains("Already initialised"))
        again.stop()
    }

    @Test func acknowledgedWriteSurvivesKill9() throws {
        let directory = try CofferBinary.scratch()
        let home = directory + "/home"
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        let put = try CofferBinary.run(["kv", "put", "durable/x", "v=kept-after-crash"], home: home, env: ["COFFER_ADDR": server.address])
        #expect(put.status == 0, "\(put.stderr)")
        server.kill9()
        let restarted = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        let get = try CofferBinary.run(["kv", "get", "durable/x", "--field", "v"], home: home, env: ["COFFER_ADDR": restarted.address])
        #expect(get.stdout == "kept-after-crash\n")
        restarted.stop()
    }

    @Test func wrongOrExposedRootKeyRefusesToStart() throws {
        let directory = try CofferBinary.scratch()
        let first = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        first.stop()
        let otherKey = RootKey.generate().exportBase64()
        let wrong = try CofferBinary.run(["dev", "--port", "0"], home: directory + "/home", env: ["COFFER_ROOT_KEY": otherKey], cwd: directory)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("ROOT_KEY_INVALID") && wrong.stderr.contains("COFFER_ROOT_KEY"))
        #expect(!wrong.stderr.contains(otherKey) && !wrong.stdout.contains(otherKey))

        let garbage = try CofferBinary.run(["dev", "--port", "0"], home: directory + "/home", env: ["COFFER_ROOT_KEY": "c2hvcnQ="], cwd: directory)
        #expect(garbage.status == 1 && garbage.stderr.contains("exactly 32 bytes") && !garbage.stderr.contains("Fatal error"))

        chmod(directory + "/.coffer/root.key", 0o644)
        let exposed = try CofferBinary.run(["dev", "--port", "0"], home: directory + "/home", cwd: directory)
        #expect(exposed.status == 1 && exposed.stderr.contains("0600"))

        let missing = try CofferBinary.run(["serve", "--port", "0", "--storage", "sqlite://\(directory)/s.db"], home: directory + "/home")
        #expect(missing.status == 1 && missing.stderr.contains("COFFER_ROOT_KEY"))
    }

    @Test func passphraseRootKeyWithOperatorInitAndServe() throws {
        let directory = try CofferBinary.scratch()
        let home = directory + "/home"
        let storage = "sqlite://\(directory)/serve.db"
        let passphrase = ["COFFER_ROOT_PASSPHRASE": "correct horse battery staple"]
        let initialised = try CofferBinary.run(["operator", "init", "--storage", storage, "--tenant", "prod"], home: home, env: passphrase)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let token = try #require(ServerProcess.firstMatch(in: initialised.stdout, prefix: "cft_"))
        let twice = try CofferBinary.run(["operator", "init", "--storage", storage], home: home, env: passphrase)
        #expect(twice.status == 1 && twice.stderr.contains("already initialised"))

        let wrong = try CofferBinary.run(
            ["serve", "--port", "0", "--storage", storage], home: home, env: ["COFFER_ROOT_PASSPHRASE": "wrong horse battery staple"])
        #expect(wrong.status == 1 && wrong.stderr.contains("COFFER_ROOT_PASSPHRASE") && !wrong.stderr.contains("wrong horse"))

        let server = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", storage], directory: directory, env: passphrase, readyMarker: "listening")
        let lookup = try CofferBinary.run(
            ["token", "lookup", "--format", "json"], home: home, env: ["COFFER_ADDR": server.address, "COFFER_TOKEN": token])
        #expect(lookup.stdout.contains("\"coffer_tenant\" : \"prod\""), "\(lookup.stderr)")
        server.stop()
    }

    @Test func configFileIsReadAndUnknownKeysAreRejected() throws {
        let directory = try CofferBinary.scratch()
        let config = directory + "/coffer.toml"
        try """
        # Coffer
        [listen]
        host = "127.0.0.1"
        port = 0
        [storage]
        url = "sqlite://\(directory)/c.db"
        [kv]
        mount = "kv"
        [metrics]
        listen = "127.0.0.1:0"

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let key = ["COFFER_ROOT_KEY": RootKey.generate().exportBase64()]
        let initialised = try CofferBinary.run(["operator", "init", "--config", config], home: directory + "/home", env: key)
        let token = try #require(ServerProcess.firstMatch(in: initialised.stdout, prefix: "cft_"))
        let server = try ServerProcess.start(["serve", "--config", config], directory: directory, env: key, readyMarker: "listening")
        let env = ["COFFER_ADDR": server.address, "COFFER_TOKEN": token]
        #expect(try CofferBinary.run(["kv", "put", "--mount", "kv", "a", "k=v"], home: directory + "/home", env: env).status == 0)
        #expect(try CofferBinary.run(["kv", "get", "a"], home: directory + "/home", env: env).status == 1, "the default mount is not served")
        // The separate metrics listener: the Prometheus text without a credential, and nothing else.
        var metricsAddress: String?
        for _ in 0..<50 where metricsAddress == nil {
            metricsAddress = server.stderr.split(separator: "\n").first { $0.contains("serving metrics") }.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("metrics_url=http://") }.map { String($0.dropFirst("metrics_url=".count)) }
            }
            if metricsAddress == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let scrapeURL = try #require(metricsAddress, "\(server.stderr)")
        let scrape = try CofferBinary.runProgram("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", scrapeURL], environment: [:])
        #expect(scrape.stdout.contains("coffer_http_requests_total{route=\"/v1/{mount}/data/**\",method=\"POST\",status_class=\"2xx\"} 1"))
        #expect(scrape.stdout.hasSuffix("\n200"), "\(scrape.stdout)")
        let health = try CofferBinary.runProgram(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", scrapeURL.replacingOccurrences(of: "/metrics", with: "/v1/sys/health")],
            environment: [:])
        #expect(health.stdout == "404")
        server.stop()

        try "[listen]\nprot = 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try CofferBinary.run(["serve", "--config", config], home: directory + "/home", env: key)
        #expect(bad.status == 1 && bad.stderr.contains("unknown configuration key listen.prot"))
        try "[metrics]\nlisten = \"9464\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let badListen = try CofferBinary.run(["serve", "--config", config], home: directory + "/home", env: key)
        #expect(badListen.status == 1 && badListen.stderr.contains("CONFIG_INVALID: metrics.listen must be host:port"), "\(badListen.stderr)")
    }
}

@Suite("CLI: operator rotate-root")
struct RotateRootCommandTests {
    @Test func rotateRootEndToEnd() throws {
        let directory = try CofferBinary.scratch()
        let home = directory + "/home"
        let storage = "sqlite://\(directory)/r.db"
        let oldKey = RootKey.generate().exportBase64()
        let newKey = RootKey.generate().exportBase64()
        let initialised = try CofferBinary.run(["operator", "init", "--storage", storage], home: home, env: ["COFFER_ROOT_KEY": oldKey])
        let token = try #require(ServerProcess.firstMatch(in: initialised.stdout, prefix: "cft_"))
        let before = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", storage], directory: directory, env: ["COFFER_ROOT_KEY": oldKey], readyMarker: "listening")
        #expect(
            try CofferBinary.run(["kv", "put", "s", "v=survives"], home: home, env: ["COFFER_ADDR": before.address, "COFFER_TOKEN": token]).status
                == 0)
        before.stop()

        let missing = try CofferBinary.run(["operator", "rotate-root", "--storage", storage], home: home, env: ["COFFER_ROOT_KEY": oldKey])
        #expect(missing.status == 1 && missing.stderr.contains("COFFER_NEW_ROOT_KEY"))
        let rotated = try CofferBinary.run(
            ["operator", "rotate-root", "--storage", storage], home: home, env: ["COFFER_ROOT_KEY": oldKey, "COFFER_NEW_ROOT_KEY": newKey])
        #expect(rotated.status == 0 && rotated.stdout.contains("version 2"), "\(rotated.stderr)")
        #expect(!rotated.stdout.contains(newKey) && !rotated.stderr.contains(newKey))

        let withOld = try CofferBinary.run(["serve", "--port", "0", "--storage", storage], home: home, env: ["COFFER_ROOT_KEY": oldKey])
        #expect(withOld.status == 1 && withOld.stderr.contains("ROOT_KEY_INVALID"))
        let after = try ServerProcess.start(
            ["serve", "--port", "0", "--storage", storage], directory: directory, env: ["COFFER_ROOT_KEY": newKey], readyMarker: "listening")
        let read = try CofferBinary.run(["kv", "get", "s", "--field", "v"], home: home, env: ["COFFER_ADDR": after.address, "COFFER_TOKEN": token])
        #expect(read.stdout == "survives\n", "\(read.stderr)")
        after.stop()
    }
}

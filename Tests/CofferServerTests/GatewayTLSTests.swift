import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import NIOSSL
import Testing

/// Providers with their own certificate authority and a client certificate (mutual TLS to the
/// upstream), against an HTTPS upstream whose certificates `openssl` makes here.
@Suite("HTTP: gateway upstream TLS")
struct GatewayTLSTests {
    /// A scratch folder with a CA, a server certificate for 127.0.0.1 signed by it, a second CA for
    /// clients and a client certificate signed by that one.
    static func certificates() async throws -> String {
        let directory = NSTemporaryDirectory() + "coffer-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func openssl(_ arguments: [String]) async throws {
            let result = try await CofferBinaryless.run(["openssl"] + arguments, in: directory)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for ca in ["ca", "clientca"] {
            try await openssl(["req", "-x509"] + ec + ["-days", "1", "-subj", "/CN=\(ca)", "-keyout", "\(ca).key", "-out", "\(ca).crt"])
        }
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
        for (name, ca) in [("server", "ca"), ("client", "clientca")] {
            try await openssl(["req"] + ec + ["-subj", "/CN=\(name)", "-keyout", "\(name).key", "-out", "\(name).csr"])
            try await openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial", "-days", "1", "-extfile",
                "\(name).ext", "-out", "\(name).crt",
            ])
        }
        return directory
    }

    static func read(_ directory: String, _ file: String) throws -> String { try String(contentsOfFile: directory + "/" + file, encoding: .utf8) }

    @Test func aPrivateCAAndAClientCertificateReachAMutualTLSUpstream() async throws {
        let directory = try await Self.certificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(directory + "/server.crt").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: directory + "/server.key", format: .pem)))
        tls.certificateVerification = .noHostnameVerification
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory + "/clientca.crt"))
        let upstream = TestUpstream()
        try await upstream.run(tls: tls) { port in
            let fixture = try await Fixture.make()
            try await fixture.test { client in
                let root = fixture.rootToken
                try await client.call(
                    .post, "/v1/secret/data/gateway/weather", token: root, json: ["data": ["API_KEY": .string(GatewayHTTPTests.upstreamSecret)]])
                try await client.call(
                    .post, "/v1/secret/data/gateway/mtls", token: root, json: ["data": ["KEY": .string(try Self.read(directory, "client.key"))]])
                func save(_ provider: [String: JSONValue]) async throws -> Fixture.Client.Reply {
                    var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
                    var providers = try #require(document["providers"]?.objectValue)
                    var weather = try #require(providers["weatherapi"]?.objectValue)
                    weather["base_url"] = .string("https://127.0.0.1:\(port)/v2")
                    weather.merge(provider) { $1 }
                    providers["weatherapi"] = .object(weather)
                    document["providers"] = .object(providers)
                    return try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document))
                }
                let call = "/v1/gateway/root/weather/call/forecast/Bern"
                // The system's roots do not know the private CA.
                #expect(try await save([:]).status == .ok)
                #expect(try await client.call(.get, call, token: root).code == "UPSTREAM_UNAVAILABLE")
                // The CA alone: the upstream asks for a client certificate and gets none.
                #expect(try await save(["ca_bundle": .string(try Self.read(directory, "ca.crt"))]).status == .ok)
                #expect(try await client.call(.get, call, token: root).code == "UPSTREAM_UNAVAILABLE")
                #expect(upstream.count == 0)
                // CA and client certificate (its key from KV): through.
                let saved = try await save([
                    "ca_bundle": .string(try Self.read(directory, "ca.crt")), "client_certificate": .string(try Self.read(directory, "client.crt")),
                    "client_key": "secret/gateway/mtls#KEY",
                ])
                #expect(saved.status == .ok, "\(saved.raw)")
                #expect(saved.data["providers"]?["weatherapi"]?["client_key"] == "secret/gateway/mtls#KEY")
                #expect(!saved.raw.contains("PRIVATE KEY"), "the key stays in KV")
                let reply = try await client.call(.get, call, token: root)
                #expect(reply.status == .ok && reply.raw == #"{"temperature":21}"#, "\(reply.raw)")
                #expect(upstream.count == 1)

                // Refused when saved: a key in the document, a certificate without its key, text that is no certificate.
                let key = try Self.read(directory, "client.key")
                #expect(try await save(["ca_bundle": .string(key)]).code == "INVALID_REQUEST")
                #expect(try await save(["client_certificate": .string(try Self.read(directory, "client.crt"))]).code == "INVALID_REQUEST")
                let garbage = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
                let refused = try await save(["ca_bundle": .string(garbage)])
                #expect(refused.code == "INVALID_REQUEST" && refused.raw.contains("ca_bundle"), "\(refused.raw)")
                #expect(!fixture.logs.all.contains("PRIVATE KEY"))
            }
        }
    }
}

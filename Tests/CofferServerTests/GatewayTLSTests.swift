import AsyncHTTPClient
import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// Providers with their own certificate authority and a client certificate (mutual TLS to the
/// upstream), against an HTTPS upstream whose certificates `openssl` makes here.
@Suite("HTTP: gateway upstream TLS")
struct GatewayTLSTests {
    /// A scratch folder with a CA, a server certificate for 127.0.0.1 signed by it, a second CA for
    /// clients and a client certificate signed by that one.
    static func certificates() async throws -> String {
        try await CofferBinaryless.certificates(
            "tls", cas: [("ca", "ca"), ("clientca", "clientca"), ("otherca", "otherca")],
            leaves: [
                ("server", "ca", "/CN=server", "subjectAltName=IP:127.0.0.1"),
                (
                    "client", "clientca", "/CN=client",
                    "extendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://example.org/billing,DNS:billing.internal"
                ),
                ("stranger", "otherca", "/CN=stranger", "extendedKeyUsage=clientAuth"),
            ])
    }

    static func read(_ directory: String, _ file: String) throws -> String { try String(contentsOfFile: directory + "/" + file, encoding: .utf8) }

    /// An HTTPS client trusting `directory/ca.crt`, presenting `directory/<certificate>.crt` (and its key) when given.
    static func tlsClient(_ directory: String, certificate: String?) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory + "/ca.crt"))
        if let certificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(directory + "/\(certificate).crt").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: directory + "/\(certificate).key", format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool.idleTimeout = .milliseconds(100)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

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

    /// mTLS client profiles: Coffer asks for a client certificate (tls.request_client_certificates) and
    /// each project checks it against its own CA, at the server's clock, and reads the caller's identity.
    @Test func clientCertificatesAuthenticateToTheProjectThatTrustsTheirCA() async throws {
        let directory = try await Self.certificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let upstream = TestUpstream()
        try await upstream.run { port in
            let fixture = try await Fixture.make { configuration in
                configuration.tlsCertificatePath = directory + "/server.crt"
                configuration.tlsKeyPath = directory + "/server.key"
                configuration.tlsRequestClientCertificates = true
            }
            // Certificates made now: the clock is now.
            fixture.clock.advance(millis: Int64(Date().timeIntervalSince1970 * 1000) - fixture.clock.nowMillis)
            try await fixture.testLive { live in
                let coffer = try #require(live.client.port)
                func client(_ certificate: String?) throws -> HTTPClient { try Self.tlsClient(directory, certificate: certificate) }
                let plain = try client(nil)
                let billing = try client("client")
                let stranger = try client("stranger")
                func shutdown() async {
                    for each in [plain, billing, stranger] { try? await each.shutdown() }
                }
                do {
                    func call(
                        _ http: HTTPClient, _ method: HTTPMethod, _ path: String, token: String? = nil, json: JSONValue? = nil
                    ) async throws
                        -> (status: Int, body: JSONValue)
                    {
                        var request = HTTPClientRequest(url: "https://127.0.0.1:\(coffer)" + path)
                        request.method = method
                        if let token { request.headers.add(name: "X-Vault-Token", value: token) }
                        if let json { request.body = .bytes(ByteBuffer(bytes: json.canonicalBytes())) }
                        let response = try await http.execute(request, timeout: .seconds(10))
                        let bytes = try await response.body.collect(upTo: 1 << 20)
                        return (Int(response.status.code), JSONValue.parse(Array(buffer: bytes)) ?? .null)
                    }
                    let root = fixture.rootToken
                    _ = try await call(plain, .POST, "/v1/secret/data/gateway/weather", token: root, json: ["data": ["API_KEY": "k"]])
                    var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
                    document["mtls_clients"] = [
                        "services": [
                            "ca_bundle": .string(try Self.read(directory, "clientca.crt")), "identity": "san_uri", "routes": ["forecast"],
                            "allowed_identities": ["spiffe://example.org/billing"],
                        ]
                    ]
                    let saved = try await call(plain, .PUT, "/v1/gateway/projects/weather", token: root, json: .object(document))
                    #expect(saved.status == 200, "\(saved.body)")
                    let forecast = "/v1/gateway/root/weather/call/forecast/Bern"

                    // A certificate from the project's CA: through, as its SAN URI.
                    let accepted = try await call(billing, .GET, forecast)
                    #expect(accepted.status == 200 && accepted.body == ["temperature": 21], "\(accepted.body)")
                    #expect(
                        try await call(billing, .POST, "/v1/gateway/root/weather/call/orders", json: ["item": "x"]).body["code"]
                            == "PERMISSION_DENIED")
                    // Another CA's certificate, or none at all.
                    #expect(try await call(stranger, .GET, forecast).body["code"] == "CERTIFICATE_INVALID")
                    #expect(try await call(plain, .GET, forecast).body["code"] == "UNAUTHENTICATED")
                    // The server's clock decides validity: expired, and not yet valid.
                    fixture.clock.advance(millis: 2 * 86_400_000)
                    #expect(try await call(billing, .GET, forecast).body["code"] == "CERTIFICATE_INVALID")
                    fixture.clock.advance(millis: -4 * 86_400_000)
                    #expect(try await call(billing, .GET, forecast).body["code"] == "CERTIFICATE_INVALID")
                    fixture.clock.advance(millis: 2 * 86_400_000)
                    // An identity outside the allowed list; then read from the CN instead, which is not listed.
                    document["mtls_clients"] = [
                        "services": ["ca_bundle": .string(try Self.read(directory, "clientca.crt")), "allowed_identities": ["billing"]]
                    ]
                    _ = try await call(plain, .PUT, "/v1/gateway/projects/weather", token: root, json: .object(document))
                    #expect(try await call(billing, .GET, forecast).body["code"] == "PERMISSION_DENIED", "CN is 'client', not 'billing'")
                    let entries = try await call(plain, .GET, "/v1/audit/entries?operation=gateway.call", token: root)
                    #expect(String(decoding: entries.body.canonicalBytes(), as: UTF8.self).contains("weather/services/spiffe://example.org/billing"))
                    #expect(upstream.count == 1)
                } catch {
                    await shutdown()
                    throw error
                }
                await shutdown()
            }
        }
    }
}

import AsyncHTTPClient
import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// The `cert` auth method over real TLS: Coffer asks for client certificates, and each login is
/// checked against a role's CA at the server's clock, the method's CRLs and the role's name patterns.
/// `openssl` makes every certificate and the CRL here.
@Suite("HTTP: cert auth method")
struct CertAuthHTTPTests {
    /// CAs (`ca` for the server, `clientca`, `otherca`, and `fakeca`, another key under clientca's name),
    /// the server's certificate, client certificates and a CRL from clientca revoking `revoked`, and one
    /// from `fakeca` "revoking" alice.
    static func certificates() async throws -> String {
        let directory = try await CofferBinaryless.certificates(
            "cert", cas: [("ca", "ca"), ("clientca", "clientca"), ("otherca", "otherca"), ("fakeca", "clientca")],
            leaves: [
                ("server", "ca", "/CN=coffer", "subjectAltName=IP:127.0.0.1"),
                ("alice", "clientca", "/OU=payments/CN=billing.internal", "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:billing.internal"),
                ("mallory", "clientca", "/OU=payments/CN=mallory.example.com", "extendedKeyUsage=clientAuth"),
                ("revoked", "clientca", "/OU=payments/CN=old.internal", "extendedKeyUsage=clientAuth"),
                ("stranger", "otherca", "/OU=payments/CN=billing.internal", "extendedKeyUsage=clientAuth"),
            ])
        func openssl(_ arguments: [String]) async throws { try await CofferBinaryless.openssl(arguments, in: directory) }
        for (ca, revoked) in [("clientca", "revoked"), ("fakeca", "alice")] {
            try "[ca]\ndefault_ca=d\n[d]\ndatabase=\(ca).index\ncrlnumber=\(ca).crlnumber\ndefault_md=sha256\ndefault_crl_days=1\n".write(
                toFile: directory + "/\(ca).cnf", atomically: true, encoding: .utf8)
            try "".write(toFile: directory + "/\(ca).index", atomically: true, encoding: .utf8)
            try "01\n".write(toFile: directory + "/\(ca).crlnumber", atomically: true, encoding: .utf8)
            try await openssl(["ca", "-config", "\(ca).cnf", "-keyfile", "\(ca).key", "-cert", "\(ca).crt", "-revoke", "\(revoked).crt"])
            try await openssl(["ca", "-config", "\(ca).cnf", "-keyfile", "\(ca).key", "-cert", "\(ca).crt", "-gencrl", "-out", "\(ca).crl"])
        }
        return directory
    }

    static func read(_ directory: String, _ file: String) throws -> String { try String(contentsOfFile: directory + "/" + file, encoding: .utf8) }

    @Test func clientCertificatesLogInOnlyWhenTrustedValidUnrevokedAndNamed() async throws {
        let directory = try await Self.certificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fixture = try await Fixture.make { configuration in
            configuration.tlsCertificatePath = directory + "/server.crt"
            configuration.tlsKeyPath = directory + "/server.key"
            configuration.tlsRequestClientCertificates = true
        }
        try await fixture.testLive { live in
            let port = try #require(live.client.port)
            func client(_ certificate: String?) throws -> HTTPClient { try GatewayTLSTests.tlsClient(directory, certificate: certificate) }
            let clients = try [
                "plain": client(nil), "alice": client("alice"), "mallory": client("mallory"), "revoked": client("revoked"),
                "stranger": client("stranger"),
            ]
            func call(
                _ who: String, _ method: HTTPMethod, _ path: String, token: String? = nil, json: JSONValue? = nil
            ) async throws -> (Int, JSONValue) {
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)" + path)
                request.method = method
                if let token { request.headers.add(name: "X-Vault-Token", value: token) }
                if let json { request.body = .bytes(ByteBuffer(bytes: json.canonicalBytes())) }
                let http = try #require(clients[who])
                let response = try await http.execute(request, timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 1 << 20)
                return (Int(response.status.code), JSONValue.parse(Array(buffer: bytes)) ?? .null)
            }
            do {
                let root = fixture.rootToken
                #expect(try await call("plain", .POST, "/v1/sys/auth/cert", token: root, json: ["type": "cert"]).0 == 204)
                let bad = try await call(
                    "plain", .POST, "/v1/auth/cert/certs/billing", token: root,
                    json: ["certificate": "not a certificate", "token_policies": "viewer"])
                #expect(bad.1["code"] == "INVALID_REQUEST")
                let role = try await call(
                    "plain", .POST, "/v1/auth/cert/certs/billing", token: root,
                    json: [
                        "certificate": .string(try Self.read(directory, "clientca.crt")), "allowed_common_names": ["*.internal"],
                        "allowed_organizational_units": "payments", "token_policies": ["viewer"], "display_name": "billing",
                        "required_extensions": "", "token_type": "",
                    ])
                #expect(role.0 == 204, "\(role.1)")
                func login(_ who: String) async throws -> (Int, JSONValue) {
                    try await call(who, .POST, "/v1/auth/cert/login", json: ["name": "billing"])
                }

                // Certificates made now are not valid yet at the fixture's clock (earlier than today).
                #expect(try await login("alice").1["code"] == "CERTIFICATE_INVALID")
                fixture.clock.advance(millis: Int64(Date().timeIntervalSince1970 * 1000) - fixture.clock.nowMillis)
                let ok = try await login("alice")
                #expect(ok.0 == 200 && ok.1["auth"]?["policies"] == ["viewer"] && ok.1["auth"]?["metadata"]?["common_name"] == "billing.internal")
                let session = try #require(ok.1["auth"]?["client_token"]?.stringValue)
                #expect(try await call("plain", .GET, "/v1/auth/token/lookup-self", token: session).0 == 200)
                // Without a name, every role is tried.
                #expect(try await call("alice", .POST, "/v1/auth/cert/login", json: [:]).0 == 200)

                for (who, code) in [("plain", 401), ("stranger", 401), ("mallory", 401)] {
                    let refused = try await login(who)
                    #expect(refused.0 == code && refused.1["code"] == "CERTIFICATE_INVALID", "\(who): \(refused.1)")
                }
                #expect(try await login("revoked").0 == 200, "not revoked until a CRL says so")
                let notCRL = try await call(
                    "plain", .POST, "/v1/auth/cert/crls/clientca", token: root,
                    json: ["crl": "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----"])
                #expect(notCRL.1["code"] == "INVALID_REQUEST")
                for name in ["clientca", "fakeca"] {
                    let stored = try await call(
                        "plain", .POST, "/v1/auth/cert/crls/\(name)", token: root, json: ["crl": .string(try Self.read(directory, "\(name).crl"))])
                    #expect(stored.0 == 204, "\(stored.1)")
                }
                #expect(try await login("revoked").1["code"] == "CERTIFICATE_INVALID")
                #expect(try await login("alice").0 == 200, "a CRL under clientca's name but not signed by it revokes nothing")
                let listed = try await call("plain", .GET, "/v1/auth/cert/crls/clientca", token: root)
                #expect(listed.1["data"]?["serials"]?.objectValue?.count == 1)

                // hvac's own cert login, over this TLS listener.
                let hvac = try await CofferBinaryless.python(
                    "cert_login.py", ["VAULT_ADDR": "https://127.0.0.1:\(port)", "VAULT_TOKEN": root, "COFFER_CERT_DIR": directory])
                #expect(hvac.status == 0 && hvac.stdout.contains("all checks passed"), "status \(hvac.status): \(hvac.stdout) \(hvac.stderr)")
                // Past the certificate's end: expired.
                fixture.clock.advance(millis: 2 * 86_400_000)
                #expect(try await login("alice").1["code"] == "CERTIFICATE_INVALID")

                let entries = try await call("plain", .GET, "/v1/audit/entries?limit=1000&operation=auth.login.failed", token: root)
                guard case .array(let items) = entries.1["data"]?["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
                let reasons = Set(items.compactMap { $0["details"]?["reason"]?.stringValue })
                #expect(reasons == ["not_yet_valid", "no_certificate", "untrusted", "name_not_allowed", "revoked", "expired"], "\(reasons)")

            } catch {
                for each in clients.values { try? await each.shutdown() }
                throw error
            }
            for each in clients.values { try? await each.shutdown() }
        }
    }
}

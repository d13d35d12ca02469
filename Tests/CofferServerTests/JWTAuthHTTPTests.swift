import CofferCore
import CofferServer
import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Testing

/// JWT/OIDC auth methods: tokens signed by an identity provider (jwt-kit signs them here, as the
/// provider would), checked against PEM keys or a JWKS URL, and every way a token can be wrong.
@Suite("HTTP: JWT auth method")
struct JWTAuthHTTPTests {
    static let issuer = "https://idp.example.com"

    struct Claims: JWTPayload {
        var iss: String
        var sub: String?
        var aud: [String]?
        var exp: Int
        var nbf: Int?
        var groups: [String]?
        var tenant: String?
        var email: String?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func login(_ client: Fixture.Client, role: String?, _ jwt: String, namespace: String? = nil) async throws -> Fixture.Client.Reply {
        var body: [String: JSONValue] = ["jwt": .string(jwt)]
        if let role { body["role"] = .string(role) }
        return try await client.call(.post, "/v1/auth/jwt/login", namespace: namespace, json: .object(body))
    }

    @Test func tokensSignedByConfiguredKeysLogInAndEveryFlawIsRefused() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let key = P256.Signing.PrivateKey()
            #expect(try await client.call(.post, "/v1/sys/auth/jwt", token: root, json: ["type": "jwt"]).status == .noContent)
            // Configuration: exactly one key source, never HMAC or none.
            for bad: JSONValue in [
                ["bound_issuer": .string(Self.issuer)],
                ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "jwks_url": "https://idp.example.com/jwks"],
                ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "jwt_supported_algs": ["HS256"]],
                ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "jwt_supported_algs": ["none"]],
                ["jwt_validation_pubkeys": ["not a key"]],
                ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "oidc_client_secret": "s3cret"],
            ] {
                #expect(try await client.call(.post, "/v1/auth/jwt/config", token: root, json: bad).code == "INVALID_REQUEST", "\(bad)")
            }
            let configured = try await client.call(
                .post, "/v1/auth/jwt/config", token: root,
                json: ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "bound_issuer": .string(Self.issuer)])
            #expect(configured.status == .noContent, "\(configured.raw)")
            let role = try await client.call(
                .post, "/v1/auth/jwt/role/ci", token: root,
                json: [
                    "role_type": "jwt", "bound_audiences": ["coffer"], "user_claim": "sub", "bound_claims": ["email": "*@example.com"],
                    "bound_claims_type": "glob", "groups_claim": "groups", "coffer_role_map": ["platform-admins": "admin", "devs": "modifier"],
                    "token_ttl": "15m", "allowed_redirect_uris": [], "verbose_oidc_logging": false,
                ])
            #expect(role.status == .noContent, "\(role.raw)")

            let signer = JWTKeyCollection()
            await signer.add(ecdsa: try ES256PrivateKey(backing: key))
            let now = Int(fixture.clock.nowMillis / 1000)
            let good = Claims(iss: Self.issuer, sub: "alice", aud: ["coffer"], exp: now + 300, groups: ["devs"], email: "alice@example.com")
            func sign(_ claims: Claims) async throws -> String { try await signer.sign(claims) }

            let ok = try await Self.login(client, role: "ci", try await sign(good))
            #expect(ok.status == .ok, "\(ok.raw)")
            let auth = try #require(ok.body["auth"])
            #expect(auth["policies"] == ["modifier"] && auth["lease_duration"] == 900 && auth["metadata"]?["groups"] == "devs")
            // A role taken from the provider's groups is re-checked only by a new login: not renewable.
            #expect(auth["renewable"] == false)
            let mapped = try #require(auth["client_token"]?.stringValue)
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: mapped).code == "INVALID_REQUEST")
            var admin = good
            admin.groups = ["devs", "platform-admins"]
            #expect(try await Self.login(client, role: "ci", try await sign(admin)).body["auth"]?["policies"] == ["admin"], "the highest mapped role")

            var cases: [(String, String, String)] = []
            func expect(_ name: String, _ jwt: String, _ code: String, role: String? = "ci") async throws {
                let reply = try await Self.login(client, role: role, jwt)
                cases.append((name, reply.code ?? "\(reply.status.code)", code))
            }
            var claims = good
            claims.aud = ["someone-else"]
            try await expect("wrong audience", try await sign(claims), "JWT_INVALID")
            claims.aud = nil
            try await expect("no audience", try await sign(claims), "JWT_INVALID")
            claims = good
            claims.iss = "https://evil.example.com"
            try await expect("wrong issuer", try await sign(claims), "JWT_INVALID")
            claims = good
            claims.exp = now - 211
            try await expect("expired beyond the leeways", try await sign(claims), "JWT_EXPIRED")
            claims = good
            claims.nbf = now + 300
            try await expect("not yet valid", try await sign(claims), "JWT_EXPIRED")
            claims = good
            claims.email = "mallory@evil.example"
            try await expect("bound claim does not match", try await sign(claims), "JWT_INVALID")
            claims = good
            claims.sub = nil
            try await expect("no user claim", try await sign(claims), "JWT_INVALID")
            claims = good
            claims.groups = ["interns"]
            try await expect("no group maps to a role", try await sign(claims), "PERMISSION_DENIED")
            claims = good
            claims.exp = Int.max
            cases.append(("far-future exp", try await Self.login(client, role: "ci", try await sign(claims)).code ?? "200", "200"))
            let valid = try await sign(good)
            let parts = valid.split(separator: ".").map(String.init)
            let forged = Base64.encodeURL(
                Array(
                    #"{"iss":"\#(Self.issuer)","sub":"root","aud":["coffer"],"exp":\#(now + 300),"groups":["platform-admins"],"email":"a@example.com"}"#
                        .utf8))
            try await expect("payload swapped under a valid signature", "\(parts[0]).\(forged).\(parts[2])", "JWT_INVALID")
            let none = Base64.encodeURL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
            try await expect("alg none", "\(none).\(parts[1]).", "JWT_INVALID")
            let confused = JWTKeyCollection()
            await confused.add(hmac: HMACKey(from: Array(key.publicKey.pemRepresentation.utf8)), digestAlgorithm: .sha256)
            try await expect("HS256 keyed with the public key", try await confused.sign(good), "JWT_INVALID")
            let stranger = JWTKeyCollection()
            await stranger.add(ecdsa: ES256PrivateKey())
            try await expect("signed by another key", try await stranger.sign(good), "JWT_INVALID")
            try await expect("garbage", "eyJ.not.ajwt", "JWT_INVALID")
            try await expect("unknown role", valid, "LOGIN_FAILED", role: "nope")
            try await expect("no role and no default_role", valid, "INVALID_REQUEST", role: nil)
            for (name, got, wanted) in cases { #expect(got == wanted, "\(name): \(got)") }

            let entries = try await AuditHTTPTests.entries(client, root)
            let failed = entries.filter { $0["operation"] == "auth.login.failed" }
            #expect(failed.contains { $0["details"]?["reason"] == "jwt_expired" } && failed.contains { $0["details"]?["reason"] == "jwt_invalid" })
            let text = entries.map { String(decoding: $0.canonicalBytes(), as: UTF8.self) }.joined() + fixture.logs.all
            #expect(!text.contains(parts[2]) && !text.contains(parts[1]), "no JWT reaches the audit log or the logs")
        }
    }

    @Test func aTenantClaimKeepsOneProvidersTokensInTheirTenant() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let acme = try #require(
                try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"]).body["auth"]?["client_token"]?.stringValue)
            let key = P256.Signing.PrivateKey()
            for (token, namespace) in [(root, "root"), (acme, "acme")] {
                try await client.call(.post, "/v1/sys/auth/jwt", token: token, namespace: namespace, json: ["type": "jwt"])
                try await client.call(
                    .post, "/v1/auth/jwt/config", token: token, namespace: namespace,
                    json: ["jwt_validation_pubkeys": [.string(key.publicKey.pemRepresentation)], "default_role": "member"])
                let role = try await client.call(
                    .post, "/v1/auth/jwt/role/member", token: token, namespace: namespace,
                    json: ["bound_audiences": "coffer", "token_policies": "viewer", "coffer_tenant_claim": "tenant"])
                #expect(role.status == .noContent, "\(role.raw)")
            }
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: try ES256PrivateKey(backing: key))
            let now = Int(fixture.clock.nowMillis / 1000)
            let forAcme = try await signer.sign(Claims(iss: Self.issuer, sub: "bob", aud: ["coffer"], exp: now + 60, tenant: "acme"))
            let session = try await Self.login(client, role: nil, forAcme, namespace: "acme")
            #expect(session.body["auth"]?["coffer_tenant"] == "acme", "\(session.raw)")
            // A fixed role: renewable, and re-checked at renewal (a role given another Coffer role ends its sessions).
            #expect(session.body["auth"]?["renewable"] == true)
            #expect(try await Self.login(client, role: nil, forAcme, namespace: "root").code == "JWT_INVALID")
            let token = try #require(session.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token, namespace: "root").code == "TENANT_MISMATCH")
        }
    }

    @Test func jwksKeysAreFetchedCachedAndRefetchedWhenTheProviderRotates() async throws {
        let upstream = TestUpstream()
        try await upstream.run { port in
            let fixture = try await Fixture.make { $0.authAllowInternalURLs = true }
            try await fixture.test { client in
                let root = fixture.rootToken
                let first = ES256PrivateKey()
                let firstJWKS: JSONValue = ["keys": [try GatewayJWTTests.jwk(first, kid: "k1")]]
                upstream.jwks.withLock { $0 = String(decoding: firstJWKS.canonicalBytes(), as: UTF8.self) }
                try await client.call(.post, "/v1/sys/auth/jwt", token: root, json: ["type": "jwt"])
                let configured = try await client.call(
                    .post, "/v1/auth/jwt/config", token: root, json: ["jwks_url": .string("http://127.0.0.1:\(port)/v2/jwks.json")])
                #expect(configured.status == .noContent, "\(configured.raw)")
                try await client.call(.post, "/v1/auth/jwt/role/svc", token: root, json: ["bound_audiences": "coffer", "token_policies": "viewer"])
                let now = Int(fixture.clock.nowMillis / 1000)
                let claims = Claims(iss: Self.issuer, sub: "svc-1", aud: ["coffer"], exp: now + 3600)
                let signer = JWTKeyCollection()
                await signer.add(ecdsa: first, kid: "k1")
                #expect(try await Self.login(client, role: "svc", try await signer.sign(claims, kid: JWKIdentifier(string: "k1"))).status == .ok)
                #expect(try await Self.login(client, role: "svc", try await signer.sign(claims, kid: JWKIdentifier(string: "k1"))).status == .ok)
                #expect(upstream.count == 1, "the key set is cached")

                // The provider rotates to k2: a token naming it makes Coffer fetch again (once per 10 s at most).
                let second = ES256PrivateKey()
                let secondJWKS: JSONValue = ["keys": [try GatewayJWTTests.jwk(second, kid: "k2")]]
                upstream.jwks.withLock { $0 = String(decoding: secondJWKS.canonicalBytes(), as: UTF8.self) }
                await signer.add(ecdsa: second, kid: "k2")
                #expect(
                    try await Self.login(client, role: "svc", try await signer.sign(claims, kid: JWKIdentifier(string: "k2"))).code == "JWT_INVALID",
                    "too soon to refetch")
                fixture.clock.advance(millis: 10_000)
                #expect(try await Self.login(client, role: "svc", try await signer.sign(claims, kid: JWKIdentifier(string: "k2"))).status == .ok)
                #expect(upstream.count == 2)
                // Unknown kids do not make Coffer hammer the provider.
                for index in 0..<5 {
                    let stranger = JWTKeyCollection()
                    await stranger.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: "x\(index)"))
                    #expect(
                        try await Self.login(client, role: "svc", try await stranger.sign(claims, kid: JWKIdentifier(string: "x\(index)"))).code
                            == "JWT_INVALID")
                }
                #expect(upstream.count == 2)
                #expect(
                    try await Self.login(client, role: "svc", try await signer.sign(claims, kid: JWKIdentifier(string: "k1"))).code == "JWT_INVALID",
                    "k1 is gone")
            }
            // Without internal URLs allowed, a loopback key URL is refused.
            let strict = try await Fixture.make()
            try await strict.test { client in
                let root = strict.rootToken
                try await client.call(.post, "/v1/sys/auth/jwt", token: root, json: ["type": "jwt"])
                try await client.call(.post, "/v1/auth/jwt/config", token: root, json: ["jwks_url": .string("http://127.0.0.1:\(port)/v2/jwks.json")])
                try await client.call(.post, "/v1/auth/jwt/role/svc", token: root, json: ["bound_audiences": "coffer", "token_policies": "viewer"])
                let signer = JWTKeyCollection()
                await signer.add(ecdsa: ES256PrivateKey(), kid: "k1")
                let now = Int(strict.clock.nowMillis / 1000)
                let refused = try await Self.login(
                    client, role: "svc",
                    try await signer.sign(Claims(iss: Self.issuer, sub: "s", aud: ["coffer"], exp: now + 60), kid: JWKIdentifier(string: "k1")))
                #expect(refused.code == "UPSTREAM_REFUSED", "\(refused.raw)")
            }
        }
    }
}

import CofferCore
import CofferServer
import Crypto
import Foundation
import HTTPTypes
import JWTKit
import Testing

/// JWT client profiles: tokens signed by an identity provider the project trusts (jwt-kit signs them
/// here, as a provider would), and every way a token can be wrong.
@Suite("HTTP: gateway JWT client profiles")
struct GatewayJWTTests {
    static let issuer = "https://idp.example.com"
    static let audience = "weather-gateway"

    struct Claims: JWTPayload {
        var iss: String
        var sub: String?
        var aud: [String]
        var exp: Int
        var nbf: Int?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func jwk(_ key: ES256PrivateKey, kid: String) throws -> JSONValue {
        let parameters = try #require(key.publicKey.parameters)
        return ["kty": "EC", "crv": "P-256", "kid": .string(kid), "x": .string(parameters.x), "y": .string(parameters.y), "use": "sig"]
    }

    static func jwk(_ key: Curve25519.Signing.PrivateKey, kid: String) -> JSONValue {
        ["kty": "OKP", "crv": "Ed25519", "kid": .string(kid), "x": .string(Base64.encodeURL(Array(key.publicKey.rawRepresentation)))]
    }

    /// Saves the weather project with `profiles` as its jwt_clients.
    static func save(_ client: Fixture.Client, _ root: String, port: Int, _ profiles: JSONValue) async throws -> Fixture.Client.Reply {
        var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
        document["jwt_clients"] = profiles
        return try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document))
    }

    @Test func tokensFromTheTrustedIssuerAreAcceptedAndEveryFlawRefused() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            let es = ES256PrivateKey()
            let ed = Curve25519.Signing.PrivateKey()
            let saved = try await Self.save(
                client, root, port: port,
                [
                    "partners": [
                        "issuer": .string(Self.issuer), "audience": .string(Self.audience), "routes": ["forecast"],
                        "jwks": ["keys": [try Self.jwk(es, kid: "es-1"), Self.jwk(ed, kid: "ed-1")]],
                        "rate_limit": ["limit": 3, "period": 60],
                    ]
                ])
            #expect(saved.status == .ok, "\(saved.raw)")
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: es, kid: "es-1")
            await signer.add(eddsa: EdDSA.PrivateKey(backing: ed), kid: "ed-1")
            let now = Int(fixture.clock.nowMillis / 1000)
            func token(_ claims: Claims, kid: String = "es-1") async throws -> String {
                try await signer.sign(claims, kid: JWKIdentifier(string: kid))
            }
            let good = Claims(iss: Self.issuer, sub: "partner-a", aud: [Self.audience], exp: now + 300)
            let accepted = try await client.call(.get, base + "/forecast/Bern", bearer: try await token(good))
            let seen = try #require(upstream.last)
            #expect(accepted.status == .ok && seen.headers.first { $0.key.lowercased() == "x-api-key" }?.value == GatewayHTTPTests.upstreamSecret)
            #expect(!seen.headers.keys.contains { $0.lowercased() == "authorization" }, "the caller's JWT is not forwarded")
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: try await token(good, kid: "ed-1")).status == .ok, "EdDSA")

            let calls = upstream.count
            var cases: [(String, String, String)] = []
            func expect(_ name: String, _ bearer: String, _ code: String) async throws {
                let reply = try await client.call(.get, base + "/forecast/Bern", bearer: bearer)
                cases.append((name, reply.code ?? "\(reply.status.code)", code))
            }
            var claims = good
            claims.aud = ["someone-else"]
            try await expect("wrong audience", try await token(claims), "JWT_INVALID")
            claims = good
            claims.iss = "https://evil.example.com"
            try await expect("unknown issuer", try await token(claims), "JWT_INVALID")
            claims = good
            claims.sub = nil
            try await expect("no subject", try await token(claims), "JWT_INVALID")
            claims = good
            claims.exp = now - 31
            try await expect("expired beyond the leeway", try await token(claims), "JWT_EXPIRED")
            claims = good
            claims.nbf = now + 120
            try await expect("not yet valid", try await token(claims), "JWT_EXPIRED")
            // Extreme numbers are compared, not added to: far-future exp is fine, far-past nbf too.
            claims = good
            claims.exp = Int.max
            claims.nbf = Int.min
            claims.sub = "partner-c"
            cases.append(
                ("extreme exp and nbf", try await client.call(.get, base + "/forecast/Bern", bearer: try await token(claims)).code ?? "200", "200"))
            let valid = try await token(good)
            let parts = valid.split(separator: ".").map(String.init)
            let forgedPayload = Base64.encodeURL(
                Array(#"{"iss":"\#(Self.issuer)","sub":"admin","aud":["\#(Self.audience)"],"exp":\#(now + 300)}"#.utf8))
            try await expect("payload swapped under a valid signature", "\(parts[0]).\(forgedPayload).\(parts[2])", "JWT_INVALID")
            let none = Base64.encodeURL(Array(#"{"alg":"none","typ":"JWT"}"#.utf8))
            try await expect("alg none", "\(none).\(parts[1]).", "JWT_INVALID")
            try await expect("alg none with a signature", "\(none).\(parts[1]).\(parts[2])", "JWT_INVALID")
            // The classic confusion: HS256 keyed with the public key the profile publishes.
            let confused = JWTKeyCollection()
            await confused.add(hmac: HMACKey(from: Array(try #require(es.publicKey.parameters).x.utf8)), digestAlgorithm: .sha256, kid: "es-1")
            try await expect("HS256 keyed with the public key", try await confused.sign(good, kid: "es-1"), "JWT_INVALID")
            let stranger = JWTKeyCollection()
            await stranger.add(ecdsa: ES256PrivateKey(), kid: "es-1")
            try await expect("signed by another key with the same kid", try await stranger.sign(good, kid: "es-1"), "JWT_INVALID")
            try await expect("unknown kid", try await stranger.sign(good, kid: "es-9"), "JWT_INVALID")
            for (name, got, wanted) in cases { #expect(got == wanted, "\(name): \(got)") }
            #expect(upstream.count == calls + 1, "a refused token reached the upstream (only the extreme-but-valid one may)")

            // Routes of the profile only; the rate limit is per subject.
            let order = try await client.call(.post, base + "/orders", bearer: valid, json: ["item": "umbrella"])
            #expect(order.code == "PERMISSION_DENIED")
            #expect(
                try await client.call(.get, base + "/forecast/Bern", bearer: valid).code == "RATE_LIMITED", "three calls per minute for partner-a")
            claims = good
            claims.sub = "partner-b"
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: try await token(claims)).status == .ok, "partner-b has its own")
            fixture.clock.advance(millis: 400_000)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: valid).code == "JWT_EXPIRED")

            let entries = try await client.call(.get, "/v1/audit/entries?operation=gateway.call", token: root)
            #expect(entries.raw.contains("gateway_jwt") && entries.raw.contains("weather/partners/partner-b"), "\(entries.raw)")
            #expect(!entries.raw.contains(parts[2]), "the token never reaches the audit log")
        }
    }

    /// HS256 with a shared secret held in KV: the secret is read at each call, so rotating it in KV
    /// takes effect at once.
    @Test func sharedSecretProfilesVerifyHS256FromKV() async throws {
        try await GatewayHTTPTests.withGateway { _, port, fixture, client, root, base in
            try await client.call(.post, "/v1/secret/data/gateway/jwt", token: root, json: ["data": ["KEY": "first-shared-jwt-secret-0123456789"]])
            let saved = try await Self.save(
                client, root, port: port,
                ["backend": ["issuer": .string(Self.issuer), "audience": .string(Self.audience), "secret": "secret/gateway/jwt#KEY"]])
            #expect(saved.status == .ok && saved.data["jwt_clients"]?["backend"]?["algorithms"] == ["HS256"], "\(saved.raw)")
            func token(_ secret: String) async throws -> String {
                let keys = JWTKeyCollection()
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
                return try await keys.sign(Claims(iss: Self.issuer, sub: "job", aud: [Self.audience], exp: Int(fixture.clock.nowMillis / 1000) + 60))
            }
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: try await token("first-shared-jwt-secret-0123456789")).status == .ok)
            #expect(
                try await client.call(.get, base + "/forecast/Bern", bearer: try await token("guessed-shared-jwt-secret-0123456789")).code
                    == "JWT_INVALID")
            try await client.call(.post, "/v1/secret/data/gateway/jwt", token: root, json: ["data": ["KEY": "second-shared-jwt-secret-0123456789"]])
            #expect(
                try await client.call(.get, base + "/forecast/Bern", bearer: try await token("first-shared-jwt-secret-0123456789")).code
                    == "JWT_INVALID")
            #expect(
                try await client.call(.get, base + "/forecast/Bern", bearer: try await token("second-shared-jwt-secret-0123456789")).status == .ok)
        }
    }

    @Test func profilesAreCheckedWhenSaved() async throws {
        try await GatewayHTTPTests.withGateway { _, port, _, client, root, _ in
            let es = ES256PrivateKey()
            let key = try Self.jwk(es, kid: "k")
            var withPrivate = try #require(key.objectValue)
            withPrivate["d"] = "c2VjcmV0"
            let bad: [(JSONValue, String)] = [
                (["issuer": "i", "audience": "a"], "needs exactly one"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [key]], "algorithms": ["HS256"]], "never none or HS*"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [key]], "algorithms": ["none"]], "never none or HS*"),
                (["issuer": "i", "audience": "a", "secret": "secret/x#Y", "algorithms": ["RS256"]], "may only be HS256"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [.object(withPrivate)]]], "private key material"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [key]], "routes": ["nope"]], "not a route"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [key]], "allow_internal": true], "only to jwks_url"),
                (["issuer": "i", "audience": "a", "jwks": ["keys": [key]], "extra": 1], "extra"),
            ]
            for (profile, message) in bad {
                let reply = try await Self.save(client, root, port: port, ["p": profile])
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains(message), "\(reply.raw)")
            }
            let twice = try await Self.save(
                client, root, port: port,
                ["a": ["issuer": "i", "audience": "a", "jwks": ["keys": [key]]], "b": ["issuer": "i", "audience": "b", "jwks": ["keys": [key]]]])
            #expect(twice.code == "INVALID_REQUEST" && twice.raw.contains("trusted by another profile"))
        }
    }

    /// Keys from the provider's JWKS URL: fetched through the same address checks as upstreams, cached,
    /// and fetched again for a new `kid` at most once a minute (the provider rotated its key).
    @Test func jwksURLKeysAreFetchedCachedAndRotated() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            let first = ES256PrivateKey()
            let second = ES256PrivateKey()
            upstream.jwks.withLock {
                $0 = String(decoding: (["keys": [try! Self.jwk(first, kid: "k1")]] as JSONValue).canonicalBytes(), as: UTF8.self)
            }
            let url = "http://127.0.0.1:\(port)/v2/jwks.json"
            let profile: JSONValue = [
                "issuer": .string(Self.issuer), "audience": .string(Self.audience), "jwks_url": .string(url), "allow_internal": true,
            ]
            #expect(try await Self.save(client, root, port: port, ["idp": profile]).status == .ok)
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: first, kid: "k1")
            await signer.add(ecdsa: second, kid: "k2")
            let now = Int(fixture.clock.nowMillis / 1000)
            let claims = Claims(iss: Self.issuer, sub: "svc", aud: [Self.audience], exp: now + 3600)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: try await signer.sign(claims, kid: "k1")).status == .ok)
            let fetches = upstream.received.withLock { $0.filter { $0.path == "/v2/jwks.json" }.count }
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: try await signer.sign(claims, kid: "k1")).status == .ok)
            #expect(upstream.received.withLock { $0.filter { $0.path == "/v2/jwks.json" }.count } == fetches, "cached")

            // The provider rotates to k2: an unknown kid refetches, but not more than once a minute.
            upstream.jwks.withLock {
                $0 = String(
                    decoding: (["keys": [try! Self.jwk(first, kid: "k1"), try! Self.jwk(second, kid: "k2")]] as JSONValue).canonicalBytes(),
                    as: UTF8.self)
            }
            let rotated = try await signer.sign(claims, kid: "k2")
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: rotated).code == "JWT_INVALID", "within a minute of the last fetch")
            fixture.clock.advance(millis: 61_000)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: rotated).status == .ok)

            // Without allow_internal, a loopback JWKS URL is refused like any upstream.
            var strict = try #require(profile.objectValue)
            strict["allow_internal"] = nil
            strict["jwks_url"] = .string("https://127.0.0.1:\(port)/v2/jwks.json")
            #expect(try await Self.save(client, root, port: port, ["idp": .object(strict)]).status == .ok)
            fixture.clock.advance(millis: 700_000)
            let refused = try await client.call(.get, base + "/forecast/Bern", bearer: try await signer.sign(claims, kid: "k1"))
            #expect(refused.code == "UPSTREAM_REFUSED", "\(refused.raw)")
        }
    }
}

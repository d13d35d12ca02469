import CofferCore
import JWTKit

/// Checks the signatures of JWTs presented to JWT/OIDC auth methods with jwt-kit, against the method's
/// PEM keys, its JWKS URL, or the JWKS its OIDC discovery document names (both cached by ``JWKSCache``).
/// The header's `alg` must be one the method accepts and the algorithm of the key that verifies; HMAC
/// and `none` are never accepted. Claims are returned for ``JWTRole`` to judge.
final class JWTLoginVerifier: JWTSignatureVerifying {
    private let upstream: UpstreamTransport
    /// Identity providers rotate keys; a token no cached key verifies refetches the set, at most every 10 s.
    private let cache = JWKSCache(unknownKidRefreshMillis: 10_000)
    private let clock: any CofferClock
    /// Whether key URLs may point at loopback, private and link-local addresses.
    private let allowInternal: Bool

    init(upstream: UpstreamTransport, clock: any CofferClock, allowInternal: Bool) {
        self.upstream = upstream
        self.clock = clock
        self.allowInternal = allowInternal
    }

    func verify(_ jwt: String, config: JWTAuthConfig, cacheKey: String) async throws -> (claims: [String: JSONValue], discoveredIssuer: String?) {
        let invalid = CofferError(.jwtInvalid, "the JWT is malformed")
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64.decodeURL(parts[0]), let payloadBytes = Base64.decodeURL(parts[1]),
            let header = JSONValue.parse(headerBytes)?.objectValue, let claims = JSONValue.parse(payloadBytes)?.objectValue,
            !parts[2].isEmpty, let alg = header["alg"]?.stringValue, header["crit"] == nil
        else { throw invalid }
        guard config.algorithms.contains(alg) else {
            throw CofferError(.jwtInvalid, "the JWT's algorithm is not one this method accepts (\(config.algorithms.joined(separator: ", ")))")
        }
        let kid = header["kid"]?.stringValue.map { JWKIdentifier(string: $0) }
        let bad = CofferError(.jwtInvalid, "the JWT's signature does not verify with this method's keys")
        if !config.validationPubkeys.isEmpty {
            for pem in config.validationPubkeys {
                guard let keys = await Self.collection(pem: pem, alg: alg) else { continue }
                if (try? await keys.verify(jwt, as: GatewayJWTVerifier.Unchecked.self)) != nil { return (claims, nil) }
            }
            throw bad
        }
        let key = cacheKey + "|" + config.oidcDiscoveryURL + "|" + config.jwksURL
        let now = clock.nowMillis
        var fetched = try await cache.keys(key, kid: kid, now: now) { try await fetchKeys(config) }
        if await !Self.verifies(jwt, alg: alg, kid: kid, with: fetched) {
            // Perhaps the issuer rotated its keys since they were fetched.
            guard let again = try await cache.refreshed(key, now: now, fetch: { try await fetchKeys(config) }),
                await Self.verifies(jwt, alg: alg, kid: kid, with: again)
            else { throw bad }
            fetched = again
        }
        return (claims, fetched.issuer)
    }

    /// Whether a key of the set verifies the token: the one its `kid` names, or (a token without one,
    /// as some providers send) any key of the set. The key's algorithm must be the header's.
    static func verifies(_ jwt: String, alg: String, kid: JWKIdentifier?, with fetched: JWKSCache.Fetched) async -> Bool {
        if let kid {
            guard fetched.kids.contains(kid.string), let key = try? await fetched.keys.getKey(for: kid, alg: alg), key.name == alg else {
                return false
            }
            return (try? await fetched.keys.verify(jwt, as: GatewayJWTVerifier.Unchecked.self)) != nil
        }
        guard case .array(let members) = fetched.document["keys"] ?? .null else { return false }
        for member in members.prefix(32) {
            guard let one = try? await JWKSCache.collection(jwks: ["keys": [member]]), let key = try? await one.getKey(for: nil, alg: alg),
                key.name == alg
            else { continue }
            if (try? await one.verify(jwt, as: GatewayJWTVerifier.Unchecked.self)) != nil { return true }
        }
        return false
    }

    /// The JWKS document (and, with discovery, the provider's issuer).
    func fetchKeys(_ config: JWTAuthConfig) async throws -> (jwks: JSONValue, issuer: String?) {
        var jwksURL = config.jwksURL
        var issuer: String?
        if !config.oidcDiscoveryURL.isEmpty {
            var base = config.oidcDiscoveryURL
            while base.hasSuffix("/") { base.removeLast() }
            let discovery = try await fetchJSON(base + "/.well-known/openid-configuration", what: "oidc_discovery_url")
            guard let uri = discovery["jwks_uri"]?.stringValue, let named = discovery["issuer"]?.stringValue else {
                throw CofferError(.upstreamUnavailable, "the OIDC discovery document names no jwks_uri or issuer")
            }
            jwksURL = uri
            issuer = named
        }
        return (try await fetchJSON(jwksURL, what: "jwks_url"), issuer)
    }

    func fetchJSON(_ url: String, what: String) async throws -> JSONValue {
        let provider: GatewayProvider
        do {
            provider = try GatewayProvider.parse(
                ["base_url": .string(url), "allow_internal": .bool(allowInternal), "read_timeout_ms": 10_000, "max_response_bytes": 1_048_576],
                path: what)
        } catch {
            throw CofferError(.upstreamRefused, "the method's \(what) is not a URL Coffer fetches (https, or http with internal addresses allowed)")
        }
        let answer: UpstreamTransport.Answer
        do {
            answer = try await upstream.perform(.fetch(provider))
        } catch let error as CofferError {
            throw CofferError(error.code, "the method's \(what) could not be fetched (\(error.code.rawValue))")
        }
        guard answer.status == 200, let document = JSONValue.parse(Array(buffer: answer.body)), document.objectValue != nil else {
            throw CofferError(.upstreamUnavailable, "the method's \(what) did not answer a JSON document (status \(answer.status))")
        }
        return document
    }

    /// A one-key collection for a PEM public key and the token's algorithm, or nil if they do not fit.
    static func collection(pem: String, alg: String) async -> JWTKeyCollection? {
        let keys = JWTKeyCollection()
        switch alg {
        case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
            guard let key = try? Insecure.RSA.PublicKey(pem: pem) else { return nil }
            let digest: DigestAlgorithm = alg.hasSuffix("256") ? .sha256 : alg.hasSuffix("384") ? .sha384 : .sha512
            return alg.hasPrefix("RS") ? await keys.add(rsa: key, digestAlgorithm: digest) : await keys.add(pss: key, digestAlgorithm: digest)
        case "ES256":
            guard let key = try? ES256PublicKey(pem: pem) else { return nil }
            return await keys.add(ecdsa: key)
        case "ES384":
            guard let key = try? ES384PublicKey(pem: pem) else { return nil }
            return await keys.add(ecdsa: key)
        case "EdDSA":
            guard let key = try? EdDSA.PublicKey(pem: pem) else { return nil }
            return await keys.add(eddsa: key)
        default:
            return nil
        }
    }
}

import CofferCore
import Foundation
import JWTKit
import Synchronization

/// Verifies the JWTs gateway client profiles accept. The signature is jwt-kit's; the rules around it
/// are Coffer's and checked before and after: the issuer picks the profile, the header's `alg` must be
/// one the profile allows and the one of the key that verifies, `exp` is required, `nbf` and `aud`
/// are checked, and the subject names the caller.
final class GatewayJWTVerifier: Sendable {
    /// Who a verified token names.
    struct Verified: Sendable {
        /// The profile's name in the project.
        let profile: String
        /// The profile.
        let client: GatewayJWTClient
        /// The caller (the profile's subject claim).
        let subject: String
    }

    private let upstream: UpstreamTransport
    private let secrets: SecretService
    private let fetched = JWKSCache()

    init(upstream: UpstreamTransport, secrets: SecretService) {
        self.upstream = upstream
        self.secrets = secrets
    }

    /// Drops every cached key set (the keyring was sealed; HS256 secrets come from KV).
    func forgetKeys() { fetched.forgetAll() }

    /// Whether a bearer value looks like a JWT (three base64url parts, a JSON header).
    static func looksLikeJWT(_ value: String) -> Bool {
        value.hasPrefix("eyJ") && value.utf8.count <= 16_384 && value.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }

    /// Verifies `token` against `project`'s JWT profiles at `now` (ms).
    func verify(_ token: String, tenant: Tenant, project: GatewayProject, now: Int64) async throws -> Verified {
        let invalid = CofferError(.jwtInvalid, "the JWT is not accepted by this project")
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Base64.decodeURL(parts[0]), let payloadBytes = Base64.decodeURL(parts[1]),
            let header = JSONValue.parse(headerBytes)?.objectValue, let claims = JSONValue.parse(payloadBytes)?.objectValue,
            !parts[2].isEmpty, let alg = header["alg"]?.stringValue, header["crit"] == nil
        else { throw invalid }
        guard let issuer = claims["iss"]?.stringValue,
            let (profile, client) = project.jwtClients.first(where: { $0.value.issuer.utf8.elementsEqual(issuer.utf8) })
        else { throw CofferError(.jwtInvalid, "no profile of this project trusts this JWT's issuer") }
        guard client.algorithms.contains(alg) else {
            throw CofferError(.jwtInvalid, "this JWT's algorithm is not one the profile accepts (\(client.algorithms.joined(separator: ", ")))")
        }
        let kid = header["kid"]?.stringValue.map { JWKIdentifier(string: $0) }
        let keys = try await self.keys(for: client, tenant: tenant, project: project.name, profile: profile, kid: kid, now: now)
        do {
            let key = try await keys.getKey(for: kid, alg: alg)
            guard key.name == alg else { throw invalid }
            _ = try await keys.verify(token, as: Unchecked.self)
        } catch {
            throw CofferError(.jwtInvalid, "the JWT's signature does not verify with the profile's keys")
        }
        let seconds = now / 1000
        let leeway = Int64(client.leewaySeconds)
        guard let expiry = claims["exp"]?.intValue else { throw CofferError(.jwtInvalid, "the JWT has no exp claim") }
        // The client's numbers are compared, never added to (an exp of Int.max must not overflow).
        guard Int64(expiry) >= seconds - leeway else { throw CofferError(.jwtExpired, "the JWT has expired") }
        if let notBefore = claims["nbf"] {
            guard let value = notBefore.intValue else { throw invalid }
            guard Int64(value) <= seconds + leeway else { throw CofferError(.jwtExpired, "the JWT is not valid yet (nbf)") }
        }
        let audiences: [String] =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
        guard audiences.contains(where: { $0.utf8.elementsEqual(client.audience.utf8) }) else {
            throw CofferError(.jwtInvalid, "the JWT is not for this audience")
        }
        guard let subject = claims[client.subjectClaim]?.stringValue, (1...256).contains(subject.utf8.count),
            subject.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
        else { throw CofferError(.jwtInvalid, "the JWT has no usable \(client.subjectClaim) claim") }
        return Verified(profile: profile, client: client, subject: subject)
    }

    /// The profile's keys: its JWKS, its HMAC secret read now, or its JWKS URL's keys (cached; fetched
    /// again when stale, or when the token names a `kid` the cached set lacks, at most once a minute).
    private func keys(
        for client: GatewayJWTClient, tenant: Tenant, project: String, profile: String, kid: JWKIdentifier?, now: Int64
    ) async throws -> JWTKeyCollection {
        switch client.keys {
        case .jwks(let document):
            return try await JWKSCache.collection(jwks: document)
        case .secret(let credential):
            let value = try await GatewayService.readCredential(secrets, tenant: tenant, credential)
            // RFC 7518 §3.2: an HS256 key is at least as long as the hash (jwt-kit asserts it, too).
            guard value.utf8.count >= 32 else {
                throw CofferError(.upstreamRefused, "the JWT profile's secret is shorter than 32 bytes; store a longer one")
            }
            return await JWTKeyCollection().add(hmac: HMACKey(from: value), digestAlgorithm: .sha256)
        case .jwksURL(let provider, _):
            let cacheKey = "\(tenant.id)|\(provider.baseURL)|\(provider.allowInternal)"
            return try await fetched.keys(cacheKey, kid: kid, now: now) {
                let answer: UpstreamTransport.Answer
                do {
                    answer = try await upstream.perform(.fetch(provider))
                } catch let error as CofferError {
                    throw CofferError(error.code, "the JWT profile's jwks_url could not be fetched (\(error.code.rawValue))")
                }
                guard answer.status == 200, let document = JSONValue.parse(Array(buffer: answer.body)) else {
                    throw CofferError(.upstreamUnavailable, "the JWT profile's jwks_url did not answer a JWKS document")
                }
                return (document, nil)
            }.keys
        }
    }

    /// A payload decoded only so jwt-kit verifies the signature; the claims are checked from the JSON.
    struct Unchecked: JWTPayload {
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}

/// A client profile that authenticates to a project with a JWT (`Authorization: Bearer eyJ…`) issued
/// by an identity provider the project trusts: the issuer and audience are checked exactly, the
/// expiry always, and the signature with the profile's keys (inline JWKS, a JWKS URL, or an HMAC
/// secret held in KV). Each subject gets the profile's routes, network allow-list, rate limit and quota.
public struct GatewayJWTClient: Sendable, Equatable {
    /// Where the verification keys come from.
    public enum Keys: Sendable, Equatable {
        /// A JWKS document given in the project (RSA, EC P-256 and Ed25519 public keys).
        case jwks(JSONValue)
        /// A JWKS document fetched from this provider-like URL (same address checks as upstreams),
        /// cached and refreshed on an unknown `kid`.
        case jwksURL(GatewayProvider, path: String)
        /// An HMAC secret in KV (HS256 only).
        case secret(GatewayCredential)
    }

    /// Algorithms a profile may accept, by key source.
    public static let asymmetric = ["RS256", "ES256", "EdDSA"]

    /// `iss`, compared exactly.
    public var issuer: String
    /// A value `aud` must hold, compared exactly.
    public var audience: String
    /// Accepted `alg` values (never `none`; HS256 only with a secret, never with public keys).
    public var algorithms: [String]
    /// The keys.
    public var keys: Keys
    /// The claim naming the caller (default `sub`).
    public var subjectClaim: String
    /// Clock leeway for `exp` and `nbf`, seconds.
    public var leewaySeconds: Int
    /// Routes it may call (nil = all).
    public var routes: [String]?
    /// Its network allow-list, rate limit and quota.
    public var limits = GatewayClientLimits()

    /// Parses `{issuer, audience, jwks | jwks_url | secret, algorithms?, subject_claim?, leeway_seconds?,
    /// allow_internal?, routes?, allowed_cidrs?, rate_limit?, quota?}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayJWTClient {
        var reader = try StrictObject(value, path: path)
        let issuer = try reader.requiredString("issuer")
        let audience = try reader.requiredString("audience")
        guard !issuer.isEmpty, issuer.utf8.count <= 512, !audience.isEmpty, audience.utf8.count <= 512 else {
            throw CofferError(.invalidRequest, "'\(path).issuer' and '\(path).audience' must be 1-512 characters")
        }
        let jwks = reader.value("jwks")
        let url = try reader.string("jwks_url")
        let secret = try reader.string("secret")
        let allowInternal = try reader.bool("allow_internal") ?? false
        let keys: Keys
        switch (jwks, url, secret) {
        case (let jwks?, nil, nil):
            guard case .array(let list) = jwks["keys"] ?? .null, !list.isEmpty, jwks.objectValue?.count == 1 else {
                throw CofferError(.invalidRequest, "'\(path).jwks' must be a JWKS document: {\"keys\": [ … ]}")
            }
            for key in list {
                guard let kty = key["kty"]?.stringValue, ["RSA", "EC", "OKP"].contains(kty) else {
                    throw CofferError(.invalidRequest, "'\(path).jwks' keys must be RSA, EC or OKP public keys")
                }
                guard ["d", "p", "q", "dp", "dq", "qi", "k"].allSatisfy({ key[$0] == nil }) else {
                    throw CofferError(.invalidRequest, "'\(path).jwks' holds private key material; give public keys only")
                }
            }
            keys = .jwks(jwks)
        case (nil, let url?, nil):
            let provider = try GatewayProvider.parse(
                ["base_url": .string(url), "allow_internal": .bool(allowInternal), "max_response_bytes": 65_536, "read_timeout_ms": 5_000],
                path: "\(path).jwks_url")
            keys = .jwksURL(provider, path: provider.basePath)
        case (nil, nil, let secret?):
            keys = .secret(try GatewayCredential.parse(["placement": "bearer", "secret": .string(secret)], path: path))
        default:
            throw CofferError(.invalidRequest, "'\(path)' needs exactly one of jwks, jwks_url or secret")
        }
        if case .jwksURL = keys {
        } else if allowInternal {
            throw CofferError(.invalidRequest, "'\(path).allow_internal' applies only to jwks_url")
        }
        let symmetric: Bool = if case .secret = keys { true } else { false }
        let algorithms = try reader.strings("algorithms") ?? (symmetric ? ["HS256"] : asymmetric)
        for algorithm in algorithms {
            guard symmetric ? algorithm == "HS256" : asymmetric.contains(algorithm) else {
                throw CofferError(
                    .invalidRequest,
                    symmetric
                        ? "'\(path).algorithms' may only be HS256 with a secret"
                        : "'\(path).algorithms' may be \(asymmetric.joined(separator: ", ")) with public keys (never none or HS*)")
            }
        }
        guard !algorithms.isEmpty else { throw CofferError(.invalidRequest, "'\(path).algorithms' cannot be empty") }
        let subjectClaim = try reader.string("subject_claim") ?? "sub"
        guard TransitKey.isValidName(subjectClaim) else { throw CofferError(.invalidRequest, "'\(path).subject_claim' must be a claim name") }
        let leeway = try reader.int("leeway_seconds", in: 0...300) ?? 30
        var client = GatewayJWTClient(
            issuer: issuer, audience: audience, algorithms: algorithms, keys: keys, subjectClaim: subjectClaim, leewaySeconds: leeway,
            routes: try reader.strings("routes"))
        client.limits = try GatewayClientLimits.parse(&reader, path: path)
        try reader.finish()
        return client
    }

    /// The document as stored and read back (never a secret: HMAC keys are KV references).
    public var document: JSONValue {
        var out: [String: JSONValue] = [
            "issuer": .string(issuer), "audience": .string(audience), "algorithms": .array(algorithms.map(JSONValue.string)),
            "subject_claim": .string(subjectClaim), "leeway_seconds": .int(leewaySeconds),
        ]
        switch keys {
        case .jwks(let jwks): out["jwks"] = jwks
        case .jwksURL(let provider, _):
            out["jwks_url"] = .string(provider.baseURL)
            out["allow_internal"] = .bool(provider.allowInternal)
        case .secret(let credential): out["secret"] = .string("\(credential.mount)/\(credential.secretPath)#\(credential.field)")
        }
        if let routes { out["routes"] = .array(routes.map(JSONValue.string)) }
        limits.write(into: &out)
        return .object(out)
    }
}

/// A JWT/OIDC method's configuration (`auth/<path>/config`): where the signing keys come from (exactly
/// one of OIDC discovery, a JWKS URL, or PEM public keys), the issuer every token must name, and the
/// algorithms accepted.
public struct JWTAuthConfig: Sendable, Hashable {
    /// An issuer's OIDC discovery URL (`<url>/.well-known/openid-configuration` names the JWKS).
    public var oidcDiscoveryURL: String = ""
    /// A JWKS URL.
    public var jwksURL: String = ""
    /// PEM public keys (RSA, EC P-256/P-384, Ed25519).
    public var validationPubkeys: [String] = []
    /// The `iss` every token must carry (with discovery: the provider's issuer unless set).
    public var boundIssuer: String = ""
    /// Algorithms accepted (never `none` or HMAC).
    public var supportedAlgorithms: [String] = []
    /// The role used when a login names none.
    public var defaultRole: String = ""
    /// The OIDC client ID (for the browser flow, kept for Vault's read-back).
    public var oidcClientID: String = ""

    /// Asymmetric algorithms Coffer accepts; HMAC and `none` are refused with public keys.
    public static let allowedAlgorithms: [String] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]

    /// An unconfigured method.
    public init() {}

    /// The algorithms a token may use.
    public var algorithms: [String] { supportedAlgorithms.isEmpty ? Self.allowedAlgorithms : supportedAlgorithms }

    /// Whether a key source is configured.
    public var isConfigured: Bool { !oidcDiscoveryURL.isEmpty || !jwksURL.isEmpty || !validationPubkeys.isEmpty }

    /// Checks the configuration's shape: one key source, http(s) URLs, known algorithms.
    public func validate() throws(CofferError) {
        let sources = [!oidcDiscoveryURL.isEmpty, !jwksURL.isEmpty, !validationPubkeys.isEmpty].filter { $0 }.count
        guard sources == 1 else {
            throw CofferError(
                .invalidRequest, "exactly one of oidc_discovery_url, jwks_url or jwt_validation_pubkeys must be set; nothing was changed")
        }
        for (name, url) in [("oidc_discovery_url", oidcDiscoveryURL), ("jwks_url", jwksURL)] where !url.isEmpty {
            guard url.utf8.count <= 2_048, url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw CofferError(.invalidRequest, "\(name) must be an http(s) URL; nothing was changed")
            }
        }
        guard validationPubkeys.count <= 32, validationPubkeys.allSatisfy({ $0.contains("-----BEGIN PUBLIC KEY-----") && $0.utf8.count <= 16_384 })
        else {
            throw CofferError(.invalidRequest, "jwt_validation_pubkeys must list PEM public keys (BEGIN PUBLIC KEY); nothing was changed")
        }
        if let bad = supportedAlgorithms.first(where: { !Self.allowedAlgorithms.contains($0) }) {
            throw CofferError(
                .invalidRequest,
                "jwt_supported_algs: '\(bad.prefix(16))' is not accepted (use \(Self.allowedAlgorithms.joined(separator: ", "))); nothing was changed"
            )
        }
    }

    /// The stored form.
    public var document: JSONValue {
        .object([
            "oidc_discovery_url": .string(oidcDiscoveryURL), "jwks_url": .string(jwksURL),
            "jwt_validation_pubkeys": .array(validationPubkeys.map { .string($0) }), "bound_issuer": .string(boundIssuer),
            "jwt_supported_algs": .array(supportedAlgorithms.map { .string($0) }), "default_role": .string(defaultRole),
            "oidc_client_id": .string(oidcClientID),
        ])
    }

    /// Reads the stored form (`{}`: not configured).
    public init(document: JSONValue) throws(CofferError) {
        guard let members = document.objectValue else { throw CofferError(.storageCorrupt, "a stored JWT configuration is malformed") }
        guard !members.isEmpty else { return }
        let corrupt = CofferError(.storageCorrupt, "a stored JWT configuration is malformed")
        guard let discovery = members["oidc_discovery_url"]?.stringValue, let jwks = members["jwks_url"]?.stringValue,
            case .array(let keys)? = members["jwt_validation_pubkeys"], let issuer = members["bound_issuer"]?.stringValue,
            case .array(let algs)? = members["jwt_supported_algs"], let role = members["default_role"]?.stringValue,
            let client = members["oidc_client_id"]?.stringValue
        else { throw corrupt }
        oidcDiscoveryURL = discovery
        jwksURL = jwks
        boundIssuer = issuer
        defaultRole = role
        oidcClientID = client
        for key in keys {
            guard let text = key.stringValue else { throw corrupt }
            validationPubkeys.append(text)
        }
        for alg in algs {
            guard let text = alg.stringValue, Self.allowedAlgorithms.contains(text) else { throw corrupt }
            supportedAlgorithms.append(text)
        }
    }
}

/// Verifies a JWT's signature against a method's configured keys and returns its claims (jwt-kit in
/// the server). Claims rules are ``JWTRole``'s.
public protocol JWTSignatureVerifying: Sendable {
    /// The claims of `jwt` if its signature verifies with the keys `config` names (fetched and cached
    /// per `cacheKey`); `JWT_INVALID` otherwise. Returns the issuer discovery reported, if any.
    func verify(_ jwt: String, config: JWTAuthConfig, cacheKey: String) async throws -> (claims: [String: JSONValue], discoveredIssuer: String?)
}

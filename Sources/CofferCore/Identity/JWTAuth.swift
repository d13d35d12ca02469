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
    /// The OIDC client ID of the browser flow (the ID token's audience there).
    public var oidcClientID: String = ""
    /// Where the OIDC client secret is kept in KV (`<mount>/<path>#<field>`); empty for a public client
    /// (PKCE alone). Coffer keeps secrets in KV, so the literal `oidc_client_secret` is not stored.
    public var oidcClientSecretRef: String = ""

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
            "oidc_client_id": .string(oidcClientID), "coffer_oidc_client_secret_ref": .string(oidcClientSecretRef),
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
            let client = members["oidc_client_id"]?.stringValue, let secretRef = members["coffer_oidc_client_secret_ref"]?.stringValue
        else { throw corrupt }
        oidcClientSecretRef = secretRef
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

/// One OIDC browser login in progress (Vault's `oidc/auth_url` → `oidc/callback`): kept for 10 minutes
/// under the keyed hash of its `state`, used once.
public struct OIDCLoginState: Sendable, Hashable {
    /// The role it logs in to.
    public var role: String
    /// The redirect URI the provider was given.
    public var redirectURI: String
    /// The nonce the ID token must carry.
    public var nonce: String
    /// The PKCE code verifier.
    public var codeVerifier: String
    /// The client's own nonce (Vault's `client_nonce`), if it sent one: the callback must repeat it.
    public var clientNonce: String
    /// Expiry, ms.
    public var expiresAt: Int64

    /// How long a browser login may take.
    public static let lifetimeMillis: Int64 = 600_000

    /// Creates a state.
    public init(role: String, redirectURI: String, nonce: String, codeVerifier: String, clientNonce: String, expiresAt: Int64) {
        self.role = role
        self.redirectURI = redirectURI
        self.nonce = nonce
        self.codeVerifier = codeVerifier
        self.clientNonce = clientNonce
        self.expiresAt = expiresAt
    }

    /// The stored form.
    public var document: JSONValue {
        .object([
            "role": .string(role), "redirect_uri": .string(redirectURI), "nonce": .string(nonce), "code_verifier": .string(codeVerifier),
            "client_nonce": .string(clientNonce), "expires_at": .int(expiresAt),
        ])
    }

    /// Reads the stored form (`STORAGE_CORRUPT` if unreadable).
    public init(document: JSONValue) throws(CofferError) {
        guard let role = document["role"]?.stringValue, let redirect = document["redirect_uri"]?.stringValue,
            let nonce = document["nonce"]?.stringValue, let verifier = document["code_verifier"]?.stringValue,
            let clientNonce = document["client_nonce"]?.stringValue, let expires = document["expires_at"]?.intValue
        else { throw CofferError(.storageCorrupt, "a stored OIDC login state is malformed") }
        self.init(role: role, redirectURI: redirect, nonce: nonce, codeVerifier: verifier, clientNonce: clientNonce, expiresAt: Int64(expires))
    }
}

/// The identity provider's side of the OIDC browser flow (discovery and the token endpoint, in the server).
public protocol OIDCProviding: Sendable {
    /// The provider's authorization endpoint, from its discovery document.
    func authorizationEndpoint(_ config: JWTAuthConfig) async throws -> String
    /// Exchanges an authorization code (with its PKCE verifier) for the ID token.
    func exchange(code: String, codeVerifier: String, redirectURI: String, config: JWTAuthConfig, tenant: Tenant) async throws -> String
}

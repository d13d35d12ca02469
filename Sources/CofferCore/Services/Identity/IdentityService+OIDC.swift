import Crypto

extension IdentityService {
    /// Starts an OIDC browser login (Vault's `oidc/auth_url`): checks the redirect URI against the role's
    /// `allowed_redirect_uris`, keeps a fresh state, nonce and PKCE verifier for 10 minutes, and returns
    /// the provider's authorization URL (code flow, S256 challenge).
    public func oidcAuthURL(
        tenant: Tenant, method: AuthMethod, roleName: String?, redirectURI: String, clientNonce: String, provider: any OIDCProviding,
        in work: UnitOfWork
    ) async throws -> String {
        let config = try JWTAuthConfig(document: method.config)
        let name = (roleName?.isEmpty == false ? roleName : nil) ?? config.defaultRole
        work.describe("auth.oidc.auth_url", "auth_role", "\(method.path)/\(name.prefix(128))")
        guard !config.oidcDiscoveryURL.isEmpty, !config.oidcClientID.isEmpty else {
            throw CofferError(.invalidRequest, "the browser flow needs oidc_discovery_url and oidc_client_id in auth/\(method.path)/config")
        }
        guard !name.isEmpty, let role = try await jwtRole(tenant: tenant, mount: method.path, name: name) else {
            throw CofferError(.invalidRequest, "no role with this name (and no default_role)")
        }
        guard role.allowedRedirectURIs.contains(where: { Self.redirectMatches(allowed: $0, redirectURI) }) else {
            throw CofferError(.invalidRequest, "redirect_uri is not one of the role's allowed_redirect_uris")
        }
        guard clientNonce.utf8.count <= 256 else { throw CofferError(.invalidRequest, "client_nonce is at most 256 bytes") }
        // The tenant rides in the state, so a browser sent straight back to Coffer (no namespace header)
        // finds its login (Vault keeps the namespace in the state too).
        let state = "st_" + Base62.encode(SecureRandom.bytes(32), minLength: 43) + "." + tenant.name
        let nonce = "n_" + Base62.encode(SecureRandom.bytes(32), minLength: 43)
        let verifier = Base64.encodeURL(SecureRandom.bytes(32))
        let challenge = Base64.encodeURL(Array(SHA256.hash(data: Array(verifier.utf8))))
        let record = OIDCLoginState(
            role: role.name, redirectURI: redirectURI, nonce: nonce, codeVerifier: verifier, clientNonce: clientNonce,
            expiresAt: clock.nowMillis + OIDCLoginState.lifetimeMillis)
        let endpoint = try await provider.authorizationEndpoint(config)
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [try stateKey(state): record.document], delete: [], dropSecretIDsOf: nil, in: work)
        let scopes = (["openid"] + role.oidcScopes.filter { $0 != "openid" }).joined(separator: " ")
        let query = [
            ("client_id", config.oidcClientID), ("redirect_uri", redirectURI), ("response_type", "code"), ("scope", scopes), ("state", state),
            ("nonce", nonce), ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ]
        .map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
        return endpoint + (endpoint.contains("?") ? "&" : "?") + query
    }

    /// Completes an OIDC browser login (Vault's `oidc/callback`): the state is used once and within its
    /// 10 minutes, the code is exchanged (with the PKCE verifier), and the ID token must verify, carry
    /// the state's nonce and be for this client, and pass the role's claim rules.
    public func oidcCallback(
        tenant: Tenant, method: AuthMethod, state: String, code: String, clientNonce: String, provider: any OIDCProviding,
        verifier: any JWTSignatureVerifying, in work: UnitOfWork
    ) async throws -> Login {
        work.describe("auth.login", "auth_role", method.path, ["method": "oidc", "mount": method.path])
        let config = try JWTAuthConfig(document: method.config)
        let invalid = CofferError(.loginFailed, "the OIDC login is unknown, used or expired; start again")
        guard state.utf8.count <= 160, code.utf8.count <= 4_096, let key = try? stateKey(state),
            let document = try await store.authEntry(tenantID: tenant.id, mount: method.path, key)
        else {
            work.addDetails(["reason": "unknown_state"])
            throw invalid
        }
        let record = try OIDCLoginState(document: document)
        // Used once: whoever deletes it goes on.
        guard
            try await store.writeAuthEntries(tenantID: tenant.id, mount: method.path, put: [:], delete: [key], dropSecretIDsOf: nil, in: .unaudited())
                == 1
        else {
            work.addDetails(["reason": "unknown_state"])
            throw invalid
        }
        guard clock.nowMillis < record.expiresAt else {
            work.addDetails(["reason": "state_expired"])
            throw invalid
        }
        guard ConstantTime.equals(Array(record.clientNonce.utf8), Array(clientNonce.utf8)) else {
            work.addDetails(["reason": "client_nonce_mismatch"])
            throw invalid
        }
        guard var role = try await jwtRole(tenant: tenant, mount: method.path, name: record.role) else {
            work.addDetails(["reason": "unknown_role"])
            throw invalid
        }
        work.describe("auth.login", "auth_role", "\(method.path)/\(role.name)", ["method": "oidc", "mount": method.path, "role": role.name])
        let grant: JWTRole.Grant
        do {
            let idToken = try await provider.exchange(
                code: code, codeVerifier: record.codeVerifier, redirectURI: record.redirectURI, config: config, tenant: tenant)
            let (claims, discovered) = try await verifier.verify(idToken, config: config, cacheKey: "\(tenant.id)|\(method.path)|\(method.accessor)")
            guard let nonce = claims["nonce"]?.stringValue, ConstantTime.equals(Array(nonce.utf8), Array(record.nonce.utf8)) else {
                throw CofferError(.jwtInvalid, "the ID token does not carry this login's nonce")
            }
            // The ID token is for this client (its audience), whatever else the role binds.
            if role.boundAudiences.isEmpty { role.boundAudiences = [config.oidcClientID] }
            let issuer = config.boundIssuer.isEmpty ? (discovered ?? "") : config.boundIssuer
            grant = try role.grant(claims: claims, issuer: issuer, tenantName: tenant.name, now: clock.nowMillis)
        } catch let error as CofferError {
            work.addDetails(["reason": error.code.rawValue.lowercased()])
            throw error
        }
        return try await issue(tenant: tenant, method: method, role: role, grant: grant, in: work)
    }

    /// Whether `uri` is the allowed redirect URI — for loopback ones (`http://localhost:…`, `127.0.0.1`)
    /// whatever the port, as RFC 8252 §7.3 lets native clients pick theirs (`coffer login`, `vault login`).
    static func redirectMatches(allowed: String, _ uri: String) -> Bool {
        if allowed.utf8.elementsEqual(uri.utf8) { return true }
        func withoutPort(_ text: String) -> String? {
            for host in ["http://localhost:", "http://127.0.0.1:"] where text.hasPrefix(host) {
                let rest = text.dropFirst(host.count)
                let digits = rest.prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, digits.count <= 5 else { return nil }
                return host + "*" + rest.dropFirst(digits.count)
            }
            return nil
        }
        guard let left = withoutPort(allowed), let right = withoutPort(uri) else { return false }
        // Bytes, never Swift's canonical-equivalence `==`: the provider compares the URI byte for byte.
        return left.utf8.elementsEqual(right.utf8)
    }

    /// The tenant an OIDC state names (its part after the last `.`), if it names a valid one.
    public static func tenantName(ofState state: String) -> String? {
        guard let dot = state.lastIndex(of: ".") else { return nil }
        let name = String(state[state.index(after: dot)...])
        return Tenant.isValidName(name) ? name : nil
    }

    func stateKey(_ state: String) throws -> AuthEntryKey {
        AuthEntryKey(.oidcState, Base62.encode(try hasher.credentialHasher().hash(state), minLength: 43))
    }

    /// `application/x-www-form-urlencoded` value encoding (RFC 3986 unreserved characters kept).
    public static func formEncode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0f)])
            }
        }
        return out
    }
}

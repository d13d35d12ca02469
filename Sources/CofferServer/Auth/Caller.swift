import CofferCore

/// An authenticated caller: a token or an API key, and the tenant it acts in.
public struct Caller: Sendable {
    /// How the caller authenticated.
    public enum Credential: Sendable {
        /// A `cft_` token: its role decides.
        case token(TokenRecord)
        /// An `sk_` API key: its scopes decide.
        case apiKey(APIKeyRecord)
    }

    /// The credential.
    public var credential: Credential
    /// The tenant.
    public var tenant: Tenant

    /// The token, when the caller used one.
    public var token: TokenRecord? {
        if case .token(let token) = credential { return token }
        return nil
    }

    /// The API key, when the caller used one.
    public var apiKey: APIKeyRecord? {
        if case .apiKey(let key) = credential { return key }
        return nil
    }

    /// The token, or `PERMISSION_DENIED` for API-key callers (token endpoints are for tokens).
    public func requireToken() throws(CofferError) -> TokenRecord {
        guard let token else { throw CofferError(.permissionDenied, "permission denied: this endpoint needs a token, not an API key") }
        return token
    }

    /// The credential's public id: the token's accessor or the key's id.
    public var credentialID: String {
        switch credential {
        case .token(let token): token.accessor
        case .apiKey(let key): key.id
        }
    }

    /// Whether the caller is an admin (admin-role token or `sk_admin_` key).
    public var isAdmin: Bool {
        switch credential {
        case .token(let token): token.role == .admin
        case .apiKey(let key): key.kind == .admin
        }
    }

    /// What the caller may grant when it creates or changes API keys.
    public var grantor: APIKeyService.Grantor {
        switch credential {
        case .token(let token): .role(token.role)
        case .apiKey(let key): .apiKey(scopes: key.grants, admin: key.kind == .admin)
        }
    }

    /// The audit actor.
    public var actor: AuditActor {
        switch credential {
        case .token(let token): AuditActor(kind: "token", id: credentialID, role: token.role.rawValue, displayName: token.displayName)
        case .apiKey(let key): AuditActor(kind: "api_key", id: credentialID, role: key.kind == .admin ? "admin" : "scoped", displayName: key.name)
        }
    }

    /// Whether the caller may do `action` (on `target`, for path-scoped actions): by role (and its scopes,
    /// if it has any) for tokens, by scope for API keys.
    public func may(_ action: Role.Action, target: String? = nil) -> Bool {
        switch credential {
        case .token(let token):
            guard token.role.allows(action) else { return false }
            // A scoped token is held to its scopes as well; minting children is checked against them at creation.
            guard let scopes = token.scopes else { return true }
            guard let need = action.requirement(target: target) else { return action == .createTokens }
            return Scope.any(scopes, allow: need.resource, need.action, target: need.target)
        case .apiKey(let key):
            guard let need = action.requirement(target: target) else { return false }
            return Scope.any(key.grants, allow: need.resource, need.action, target: need.target)
        }
    }
}

/// What a new token should be, as asked (Vault's token-create parameters, already validated in shape).
/// ``TokenService`` applies the rules: a child never outranks, outlives or out-scopes its parent.
public struct TokenSpec: Sendable, Hashable {
    /// Coffer role.
    public var role: Role
    /// Human label.
    public var displayName: String = "token"
    /// Requested TTL in seconds (0 = none, or the period for periodic tokens).
    public var ttlSeconds: Int64 = 0
    /// Hard cap on the lifetime, renewals included (0 = none).
    public var explicitMaxTTLSeconds: Int64 = 0
    /// Periodic renewal window (0 = not periodic).
    public var periodSeconds: Int64 = 0
    /// Whether renewal may extend it.
    public var renewable: Bool = true
    /// Uses before the token is spent (0 = unlimited).
    public var numUses: Int64 = 0
    /// Free metadata.
    public var meta: [String: String] = [:]
    /// Client networks the token is bound to.
    public var boundCIDRs: [String] = []
    /// Scopes limiting the role (`nil` = none beyond the role, or the parent's when it has some).
    public var scopes: [Scope]?
    /// Created without a parent.
    public var orphan: Bool = false
    /// The token role it is created against.
    public var roleName: String?
    /// The login that made it (tokens from auth methods).
    public var origin: LoginOrigin?

    /// Creates a spec for a token of `role`.
    public init(role: Role) { self.role = role }
}

/// The token a login yields, as a user's or role's configuration says (Vault's `token_*` parameters):
/// Coffer's role (given as Vault `token_policies`), optional scopes, TTL and max TTL, bound networks and uses.
public struct LoginTokenSettings: Sendable, Hashable {
    /// The role granted; `nil` only for JWT roles that take it from a claim.
    public var role: Role?
    /// Scopes limiting the role (`nil` = the role alone decides).
    public var scopes: [Scope]?
    /// The access token's TTL in seconds (0 = the default, 1 hour).
    public var ttlSeconds: Int64 = 0
    /// How long renewals may keep the session alive, in seconds (0 = the default, 30 days).
    public var maxTTLSeconds: Int64 = 0
    /// Client networks the token may be used from.
    public var boundCIDRs: [String] = []
    /// Uses before the token is spent (0 = unlimited).
    public var numUses: Int64 = 0

    /// A session's access token lives an hour unless configured otherwise.
    public static let defaultTTLSeconds: Int64 = 3600
    /// And can be renewed for up to 30 days.
    public static let defaultMaxTTLSeconds: Int64 = 30 * 86400

    /// Settings granting `role`.
    public init(role: Role?) { self.role = role }

    /// The TTL a login grants.
    public var effectiveTTL: Int64 {
        min(ttlSeconds > 0 ? ttlSeconds : Self.defaultTTLSeconds, effectiveMaxTTL)
    }

    /// The longest a session lasts, renewals included.
    public var effectiveMaxTTL: Int64 { maxTTLSeconds > 0 ? maxTTLSeconds : Self.defaultMaxTTLSeconds }

    /// The token a login with these settings creates: renewable, orphan, capped at the max TTL.
    public func spec(role: Role, displayName: String, origin: LoginOrigin, meta: [String: String]) -> TokenSpec {
        var spec = TokenSpec(role: role)
        spec.displayName = displayName
        spec.ttlSeconds = effectiveTTL
        spec.explicitMaxTTLSeconds = effectiveMaxTTL
        spec.renewable = true
        spec.numUses = numUses
        spec.boundCIDRs = boundCIDRs
        spec.scopes = scopes
        spec.orphan = true
        spec.meta = meta
        spec.origin = origin
        return spec
    }

    /// The stored form.
    public var document: [String: JSONValue] {
        var out: [String: JSONValue] = [
            "token_ttl": .int(ttlSeconds), "token_max_ttl": .int(maxTTLSeconds),
            "token_bound_cidrs": .array(boundCIDRs.map { .string($0) }), "token_num_uses": .int(numUses),
        ]
        if let role { out["coffer_role"] = .string(role.rawValue) }
        if let scopes { out["coffer_scopes"] = .array(scopes.map { .string($0.description) }) }
        return out
    }

    /// Reads the stored form; anything unreadable fails closed (`STORAGE_CORRUPT`).
    public init(document: [String: JSONValue]) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "a stored login configuration is malformed")
        if let name = document["coffer_role"] {
            guard let text = name.stringValue, let role = Role(rawValue: text) else { throw corrupt }
            self.role = role
        }
        if let list = document["coffer_scopes"] {
            guard case .array(let items) = list else { throw corrupt }
            var scopes: [Scope] = []
            for item in items {
                guard let text = item.stringValue, let scope = Scope(text) else { throw corrupt }
                scopes.append(scope)
            }
            self.scopes = scopes
        }
        guard let ttl = document["token_ttl"]?.intValue.map(Int64.init), let maxTTL = document["token_max_ttl"]?.intValue.map(Int64.init),
            let uses = document["token_num_uses"]?.intValue.map(Int64.init), ttl >= 0, maxTTL >= 0, uses >= 0,
            case .array(let cidrs)? = document["token_bound_cidrs"]
        else { throw corrupt }
        ttlSeconds = ttl
        maxTTLSeconds = maxTTL
        numUses = uses
        for cidr in cidrs {
            guard let text = cidr.stringValue, CIDR(text) != nil else { throw corrupt }
            boundCIDRs.append(text)
        }
    }

    /// Vault's read-back of the `token_*` fields (policies as Coffer's role name).
    public var vaultFields: [String: JSONValue] {
        let policies: JSONValue = .array(role.map { [.string($0.rawValue)] } ?? [])
        return [
            "token_policies": policies, "policies": policies, "token_ttl": .int(ttlSeconds), "token_max_ttl": .int(maxTTLSeconds),
            "token_bound_cidrs": .array(boundCIDRs.map { .string($0) }), "token_num_uses": .int(numUses), "token_period": 0,
            "token_explicit_max_ttl": 0, "token_no_default_policy": false, "token_type": "default",
            "coffer_scopes": scopes.map { .array($0.map { .string($0.description) }) } ?? .null,
        ]
    }
}

/// A token role (Vault's `auth/token/roles/<name>`): settings that tokens created against it always get,
/// whatever the create request asks, and the Coffer roles such tokens may have.
public struct TokenRole: Sendable, Hashable {
    /// Role name (path segment).
    public var name: String
    /// Coffer roles a token of this role may have (Vault's `allowed_policies`); empty = any the creator may grant.
    public var allowedRoles: [Role] = []
    /// Coffer roles it may never have (Vault's `disallowed_policies`).
    public var disallowedRoles: [Role] = []
    /// Tokens are created without a parent.
    public var orphan: Bool = false
    /// Tokens may be renewed.
    public var renewable: Bool = true
    /// Periodic tokens with this period (0 = not periodic).
    public var periodSeconds: Int64 = 0
    /// Hard lifetime cap (0 = none).
    public var explicitMaxTTLSeconds: Int64 = 0
    /// Networks the tokens are bound to.
    public var boundCIDRs: [String] = []
    /// Uses per token (0 = unlimited).
    public var numUses: Int64 = 0
    /// Scopes every token of the role is limited to (`nil` = none).
    public var scopes: [Scope]?

    /// Creates a role with Vault's defaults.
    public init(name: String) { self.name = name }

    /// Whether `name` is a usable role name: 1–128 of `A–Z a–z 0–9 . _ -`, not starting with a dot.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.first != "."
            && name.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    /// `spec` as this role forces it: the role's lifetime, renewal, binding, use and scope settings
    /// replace the request's where set; the Coffer role must be allowed. `requestedRole` is the role the
    /// request named (nil: none), `fallback` the creator's.
    public func apply(to spec: TokenSpec, requestedRole: Role?, fallback: Role) throws(CofferError) -> TokenSpec {
        var spec = spec
        let role: Role
        if let requestedRole {
            role = requestedRole
        } else if allowedRoles.count == 1, let only = allowedRoles.first {
            role = only
        } else {
            role = fallback
        }
        if !allowedRoles.isEmpty, !allowedRoles.contains(role) {
            throw CofferError(.permissionDenied, "token role '\(name)' does not allow role \(role.rawValue)")
        }
        if disallowedRoles.contains(role) { throw CofferError(.permissionDenied, "token role '\(name)' disallows role \(role.rawValue)") }
        spec.role = role
        spec.roleName = name
        if orphan { spec.orphan = true }
        if !renewable { spec.renewable = false }
        if periodSeconds > 0 { spec.periodSeconds = periodSeconds }
        if explicitMaxTTLSeconds > 0 {
            spec.explicitMaxTTLSeconds =
                spec.explicitMaxTTLSeconds > 0 ? min(spec.explicitMaxTTLSeconds, explicitMaxTTLSeconds) : explicitMaxTTLSeconds
        }
        if !boundCIDRs.isEmpty { spec.boundCIDRs = boundCIDRs }
        if numUses > 0 { spec.numUses = spec.numUses > 0 ? min(spec.numUses, numUses) : numUses }
        if let scopes {
            // The request may narrow the role's scopes, never widen them.
            if let asked = spec.scopes {
                guard asked.allSatisfy({ item in scopes.contains { $0.covers(item) } }) else {
                    throw CofferError(.permissionDenied, "token role '\(name)' does not allow those scopes")
                }
            } else {
                spec.scopes = scopes
            }
        }
        return spec
    }

    /// The stored form (a JSON document; the name is the key beside it).
    public var document: JSONValue {
        var fields: [String: JSONValue] = [
            "allowed_policies": .array(allowedRoles.map { .string($0.rawValue) }),
            "disallowed_policies": .array(disallowedRoles.map { .string($0.rawValue) }), "orphan": .bool(orphan),
            "renewable": .bool(renewable), "token_period": .int(Int(periodSeconds)),
            "token_explicit_max_ttl": .int(Int(explicitMaxTTLSeconds)), "token_bound_cidrs": .array(boundCIDRs.map { .string($0) }),
            "token_num_uses": .int(Int(numUses)),
        ]
        fields["coffer_scopes"] = scopes.map { .array($0.map { .string($0.description) }) } ?? .null
        return .object(fields)
    }

    /// Reads a stored document; `STORAGE_CORRUPT` for anything not written by ``document``.
    public init(name: String, document: JSONValue) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "a stored token role is malformed")
        guard let fields = document.objectValue else { throw corrupt }
        func roles(_ key: String) throws(CofferError) -> [Role] {
            guard case .array(let items)? = fields[key] else { throw corrupt }
            var out: [Role] = []
            for item in items {
                guard let text = item.stringValue, let role = Role(rawValue: text) else { throw corrupt }
                out.append(role)
            }
            return out
        }
        func int(_ key: String) throws(CofferError) -> Int64 {
            guard let value = fields[key]?.intValue, value >= 0 else { throw corrupt }
            return Int64(value)
        }
        func flag(_ key: String) throws(CofferError) -> Bool {
            guard let value = fields[key]?.boolValue else { throw corrupt }
            return value
        }
        self.name = name
        allowedRoles = try roles("allowed_policies")
        disallowedRoles = try roles("disallowed_policies")
        orphan = try flag("orphan")
        renewable = try flag("renewable")
        periodSeconds = try int("token_period")
        explicitMaxTTLSeconds = try int("token_explicit_max_ttl")
        numUses = try int("token_num_uses")
        guard case .array(let cidrs)? = fields["token_bound_cidrs"] else { throw corrupt }
        boundCIDRs = []
        for item in cidrs {
            guard let text = item.stringValue, CIDR(text) != nil else { throw corrupt }
            boundCIDRs.append(text)
        }
        switch fields["coffer_scopes"] {
        case .null?, nil: scopes = nil
        case .array(let items)?:
            var parsed: [Scope] = []
            for item in items {
                guard let text = item.stringValue, let scope = Scope(text) else { throw corrupt }
                parsed.append(scope)
            }
            scopes = parsed
        default: throw corrupt
        }
    }
}

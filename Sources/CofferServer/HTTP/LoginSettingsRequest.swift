import CofferCore

/// The `token_*` parameters of a userpass user, an AppRole role or a JWT role, decoded strictly onto
/// the current settings (only the fields sent change). `token_policies` (or Vault's older `policies`)
/// names Coffer's role: one of `viewer`, `modifier`, `auditor`, `admin`; Vault's `default` policy is
/// accepted and means nothing here; any other name is refused naming it.
enum LoginSettingsRequest {
    /// Every field this decoder reads.
    static let fields: Set<String> = [
        "token_policies", "policies", "coffer_scopes", "token_ttl", "ttl", "token_max_ttl", "max_ttl", "token_explicit_max_ttl",
        "token_bound_cidrs", "bound_cidrs", "token_num_uses", "token_period", "period", "token_no_default_policy", "token_type",
    ]

    /// Applies the fields of `object` to `settings`.
    static func apply(_ object: [String: JSONValue], to settings: inout LoginTokenSettings) throws {
        if let names = try names(object, "token_policies") ?? names(object, "policies") {
            let roles = names.filter { $0 != "default" }
            if let unknown = roles.first(where: { Role(rawValue: $0) == nil }) {
                throw CofferError(
                    .invalidRequest,
                    "token_policies: '\(unknown.prefix(64))' is not one of Coffer's roles (viewer, modifier, auditor, admin); nothing was changed")
            }
            guard Set(roles).count <= 1 else { throw CofferError(.invalidRequest, "token_policies: give at most one of Coffer's roles") }
            settings.role = roles.first.flatMap(Role.init(rawValue:))
        }
        if let texts = try names(object, "coffer_scopes") {
            var scopes: [Scope] = []
            for text in texts {
                guard let scope = Scope(text) else {
                    throw CofferError(.invalidRequest, "coffer_scopes: '\(text.prefix(64))' is not a scope (resource:action[:pattern])")
                }
                scopes.append(scope)
            }
            settings.scopes = scopes.isEmpty ? nil : scopes
        }
        for (key, path) in [
            ("token_ttl", \LoginTokenSettings.ttlSeconds), ("ttl", \.ttlSeconds), ("token_max_ttl", \.maxTTLSeconds), ("max_ttl", \.maxTTLSeconds),
        ] {
            guard let seconds = try object.duration(key) else { continue }
            guard seconds <= TokenService.maximumSeconds else { throw CofferError(.invalidRequest, "\(key) is at most 10 years") }
            settings[keyPath: path] = seconds
        }
        if let cap = try object.duration("token_explicit_max_ttl"), cap > 0 {
            guard cap <= TokenService.maximumSeconds else { throw CofferError(.invalidRequest, "token_explicit_max_ttl is at most 10 years") }
            settings.maxTTLSeconds = settings.maxTTLSeconds > 0 ? min(settings.maxTTLSeconds, cap) : cap
        }
        if let cidrs = try names(object, "token_bound_cidrs") ?? names(object, "bound_cidrs") {
            if let bad = cidrs.first(where: { CIDR($0) == nil }) {
                throw CofferError(.invalidRequest, "token_bound_cidrs: '\(bad.prefix(64))' is not a CIDR network; nothing was changed")
            }
            settings.boundCIDRs = cidrs.compactMap { CIDR($0)?.description }
        }
        if let uses = try object.int("token_num_uses") {
            guard (0...Int(Int32.max)).contains(uses) else { throw CofferError(.invalidRequest, "token_num_uses must be 0 or more") }
            settings.numUses = Int64(uses)
        }
        for key in ["token_period", "period"] where (try object.duration(key) ?? 0) != 0 {
            throw CofferError(.invalidRequest, "\(key): periodic login tokens are not supported; sessions renew up to token_max_ttl")
        }
        _ = try object.bool("token_no_default_policy")
        if let type = try object.string("token_type"), !["", "default", "service", "default-service"].contains(type) {
            throw CofferError(.invalidRequest, "token_type: only service tokens exist in Coffer")
        }
        guard settings.maxTTLSeconds == 0 || settings.ttlSeconds <= settings.maxTTLSeconds else {
            throw CofferError(.invalidRequest, "token_ttl cannot be longer than token_max_ttl")
        }
    }

    /// A list given as a JSON array or a comma-separated string (hvac sends both), trimmed, empties dropped.
    static func names(_ object: [String: JSONValue], _ key: String) throws(CofferError) -> [String]? {
        guard let value = object[key], value != .null else { return nil }
        if let text = value.stringValue {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return try object.stringList(key)?.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

import CofferCore
import Foundation

/// The body of `POST /v1/auth/token/roles/<name>`, decoded strictly like token creation: Vault's role
/// parameters are honoured or refused by name, unknown ones refused.
///
/// Honoured: `allowed_policies` / `disallowed_policies` (Coffer role names), `orphan`, `renewable`,
/// `token_period` (alias `period`), `token_explicit_max_ttl` (alias `explicit_max_ttl`),
/// `token_bound_cidrs` (alias `bound_cidrs`), `token_num_uses`, `token_type` (`service`),
/// `token_no_default_policy`, and Coffer's `coffer_scopes`. Accepted only when empty: `path_suffix`,
/// `allowed_entity_aliases`, `allowed_policies_glob`, `disallowed_policies_glob` (no identity entities,
/// no glob policies in Coffer).
enum TokenRoleRequest {
    static let honoured: Set<String> = [
        "allowed_policies", "disallowed_policies", "orphan", "renewable", "token_period", "period", "token_explicit_max_ttl",
        "explicit_max_ttl", "token_bound_cidrs", "bound_cidrs", "token_num_uses", "token_type", "token_no_default_policy", "coffer_scopes",
    ]
    static let emptyOnly: Set<String> = ["path_suffix", "allowed_entity_aliases", "allowed_policies_glob", "disallowed_policies_glob"]

    /// The role `name` as the body sets it.
    static func role(named name: String, _ object: [String: JSONValue]) throws -> TokenRole {
        for key in object.keys.sorted() where !honoured.contains(key) {
            guard emptyOnly.contains(key) else { throw CofferError.unknownParameter(key, "the role was not saved") }
            let value = object[key] ?? .null
            let empty = value == .null || value.stringValue == "" || (value == .array([]))
            if !empty { throw CofferError(.invalidRequest, "\(key) is not supported by Coffer; the role was not saved") }
        }
        var role = TokenRole(name: name)
        role.allowedRoles = try roles(object, "allowed_policies")
        role.disallowedRoles = try roles(object, "disallowed_policies")
        role.orphan = try object.bool("orphan") ?? false
        role.renewable = try object.bool("renewable") ?? true
        role.periodSeconds = try object.duration("token_period") ?? object.duration("period") ?? 0
        role.explicitMaxTTLSeconds = try object.duration("token_explicit_max_ttl") ?? object.duration("explicit_max_ttl") ?? 0
        for (field, value) in [("token_period", role.periodSeconds), ("token_explicit_max_ttl", role.explicitMaxTTLSeconds)]
        where value > TokenService.maximumSeconds {
            throw CofferError(.invalidRequest, "\(field) is at most 10 years")
        }
        let cidrs = try object.stringList("token_bound_cidrs") ?? object.stringList("bound_cidrs") ?? []
        guard cidrs.allSatisfy({ CIDR($0) != nil }) else { throw CofferError(.invalidRequest, "token_bound_cidrs must list CIDR networks") }
        role.boundCIDRs = cidrs.compactMap { CIDR($0)?.description }
        guard let uses = Int64(exactly: try object.int("token_num_uses") ?? 0), uses >= 0, uses <= Int64(Int32.max) else {
            throw CofferError(.invalidRequest, "token_num_uses must be between 0 and 2147483647")
        }
        role.numUses = uses
        if let type = try object.string("token_type"), !["service", "default", "default-service"].contains(type) {
            throw CofferError(.invalidRequest, "token_type: only service tokens exist in Coffer")
        }
        _ = try object.bool("token_no_default_policy")
        if let texts = try object.stringList("coffer_scopes") {
            var scopes: [Scope] = []
            for text in texts {
                guard let scope = Scope(text) else { throw CofferError(.invalidRequest, "coffer_scopes: '\(text.prefix(64))' is not a scope") }
                scopes.append(scope)
            }
            role.scopes = scopes
        }
        return role
    }

    /// A list of Coffer role names (Vault sends policies as an array or a comma-separated string).
    static func roles(_ object: [String: JSONValue], _ key: String) throws -> [Role] {
        let names: [String]
        if let text = object[key]?.stringValue {
            names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else {
            names = try object.stringList(key) ?? []
        }
        var out: [Role] = []
        for name in names {
            guard let role = Role(rawValue: name) else {
                throw CofferError(.invalidRequest, "\(key): '\(name.prefix(64))' is not a Coffer role (viewer, modifier, auditor, admin)")
            }
            if !out.contains(role) { out.append(role) }
        }
        return out
    }
}

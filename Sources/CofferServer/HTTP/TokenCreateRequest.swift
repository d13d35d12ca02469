import CofferCore

/// The body of `POST /v1/auth/token/create[-orphan|/<role>]`, decoded strictly: every parameter Vault
/// defines is either honoured exactly or refused with `INVALID_REQUEST` naming it (never silently
/// dropped), and any other parameter is refused too.
///
/// Honoured: `role` (Coffer's) or `policies` (one Coffer role name), `ttl`, `explicit_max_ttl`, `period`,
/// `renewable` (default true, as in Vault), `num_uses`, `no_parent`, `display_name`, `meta`,
/// `no_default_policy` (Coffer attaches no default policy), `type` (`service`), and Coffer's
/// `token_bound_cidrs` and `coffer_scopes`. Refused: `id` (tokens are always random), `entity_alias`
/// (no identity entities), `lease` (a deprecated alias: use `ttl`), `type: batch`.
struct TokenCreateRequest {
    /// The spec as asked (a token role may still override parts of it).
    let spec: TokenSpec
    /// The role the request named, if any.
    let requestedRole: Role?

    static let honoured: Set<String> = [
        "role", "policies", "ttl", "explicit_max_ttl", "display_name", "no_default_policy", "renewable", "num_uses", "no_parent", "type",
        "period", "meta", "token_bound_cidrs", "coffer_scopes",
    ]
    static let unsupported: [String: String] = [
        "id": "tokens are always random; a chosen id is not supported",
        "entity_alias": "Coffer has no identity entities",
        "lease": "the deprecated 'lease' is not supported; use ttl",
        "role_name": "name the token role in the path: auth/token/create/<role>",
    ]

    init(_ object: [String: JSONValue], parentRole: Role, orphan: Bool) throws {
        for key in object.keys.sorted() where !Self.honoured.contains(key) {
            if let why = Self.unsupported[key] { throw CofferError(.invalidRequest, "\(key): \(why); the token was not created") }
            throw CofferError.unknownParameter(key, "the token was not created")
        }
        if let type = try object.string("type"), type != "service", type != "default" {
            throw CofferError(.invalidRequest, "type: only service tokens exist in Coffer; the token was not created")
        }
        _ = try object.bool("no_default_policy")
        var requested: Role?
        if let name = try object.string("role") {
            guard let parsed = Role(rawValue: name) else { throw CofferError(.invalidRequest, "role must be viewer, modifier, auditor or admin") }
            requested = parsed
        }
        if let names = try object.stringList("policies"), !names.isEmpty {
            let distinct = Set(names)
            guard distinct.count == 1, let name = distinct.first, let parsed = Role(rawValue: name) else {
                let unknown = distinct.sorted().first { Role(rawValue: $0) == nil }
                throw CofferError(
                    .invalidRequest,
                    "policies: give one of viewer, modifier, auditor or admin (Coffer's roles)\(unknown.map { "; '\($0)' is not one" } ?? ""); the token was not created"
                )
            }
            if let requested, requested != parsed { throw CofferError(.invalidRequest, "role and policies name different roles") }
            requested = parsed
        }
        requestedRole = requested
        var spec = TokenSpec(role: requested ?? parentRole)
        spec.ttlSeconds = try object.duration("ttl") ?? 0
        spec.explicitMaxTTLSeconds = try object.duration("explicit_max_ttl") ?? 0
        spec.periodSeconds = try object.duration("period") ?? 0
        spec.renewable = try object.bool("renewable") ?? true
        guard let uses = Int64(exactly: try object.int("num_uses") ?? 0), uses >= 0, uses <= Int64(Int32.max) else {
            throw CofferError(.invalidRequest, "num_uses must be between 0 and 2147483647; the token was not created")
        }
        spec.numUses = uses
        let noParent = try object.bool("no_parent") ?? false
        spec.orphan = orphan || noParent
        spec.meta = try object.stringMap("meta") ?? [:]
        let cidrs = try object.stringList("token_bound_cidrs") ?? []
        if let bad = cidrs.first(where: { CIDR($0) == nil }) {
            throw CofferError(.invalidRequest, "token_bound_cidrs: '\(bad.prefix(64))' is not a CIDR network; the token was not created")
        }
        spec.boundCIDRs = cidrs
        if let texts = try object.stringList("coffer_scopes") {
            var scopes: [Scope] = []
            for text in texts {
                guard let scope = Scope(text) else {
                    throw CofferError(.invalidRequest, "coffer_scopes: '\(text.prefix(64))' is not a scope (resource:action[:pattern])")
                }
                scopes.append(scope)
            }
            spec.scopes = scopes
        }
        let displayName = try object.string("display_name") ?? "token"
        guard displayName.utf8.count <= 128 else { throw CofferError(.invalidRequest, "display_name is at most 128 bytes") }
        spec.displayName = displayName
        self.spec = spec
    }
}

import CofferCore

/// The body of `POST /v1/auth/token/create`, decoded strictly: every parameter Vault defines is either
/// honoured exactly or refused with `INVALID_REQUEST` naming it (never silently dropped), and any other
/// parameter is refused too. Honoured: `role` (Coffer's), `policies` (one role name), `ttl`,
/// `explicit_max_ttl`, `display_name`, `no_default_policy` (Coffer attaches no default policy), and the
/// `renewable` (default true, as in Vault; a token without a ttl has nothing to renew), and the defaults
/// of the rest (`num_uses: 0`, `no_parent: false`, `type: service`, `period: 0`, empty `meta`).
struct TokenCreateRequest {
    let role: Role
    let ttlSeconds: Int64
    let explicitMaxTTLSeconds: Int64
    let displayName: String
    let renewable: Bool

    static let honoured: Set<String> = ["role", "policies", "ttl", "explicit_max_ttl", "display_name", "no_default_policy", "renewable"]
    static let refusedUnlessDefault: Set<String> = ["num_uses", "no_parent", "type", "period", "meta"]
    static let unsupported: Set<String> = ["id", "role_name", "entity_alias", "lease"]

    init(_ object: [String: JSONValue], parentRole: Role) throws {
        for key in object.keys.sorted() where !Self.honoured.contains(key) && !Self.refusedUnlessDefault.contains(key) {
            if Self.unsupported.contains(key) {
                throw CofferError(.invalidRequest, "\(key) is not supported by Coffer; the token was not created")
            }
            throw CofferError(.invalidRequest, "unknown parameter '\(key)'; the token was not created")
        }
        self.renewable = try object.bool("renewable") ?? true
        if let uses = try object.int("num_uses"), uses != 0 {
            throw CofferError(.invalidRequest, "num_uses: use-limited tokens are not supported yet; the token was not created")
        }
        if let orphan = try object.bool("no_parent"), orphan {
            throw CofferError(.invalidRequest, "no_parent: orphan tokens are not supported yet; the token was not created")
        }
        if let type = try object.string("type"), type != "service", type != "default" {
            throw CofferError(.invalidRequest, "type: only service tokens exist in Coffer; the token was not created")
        }
        if let period = try object.duration("period"), period != 0 {
            throw CofferError(.invalidRequest, "period: periodic tokens are not supported yet (they need renewal); the token was not created")
        }
        if let meta = object["meta"], meta != .null, meta.objectValue?.isEmpty != true {
            throw CofferError(.invalidRequest, "meta: token metadata is not supported yet; the token was not created")
        }
        _ = try object.bool("no_default_policy")
        var role = parentRole
        if let name = try object.string("role") {
            guard let parsed = Role(rawValue: name) else { throw CofferError(.invalidRequest, "role must be viewer, modifier, auditor or admin") }
            role = parsed
        }
        if let policies = object["policies"], policies != .null {
            guard case .array(let items) = policies, items.allSatisfy({ $0.stringValue != nil }) else {
                throw CofferError(.invalidRequest, "policies must be an array of role names")
            }
            let names = Set(items.compactMap(\.stringValue))
            if !names.isEmpty {
                guard names.count == 1, let name = names.first, let parsed = Role(rawValue: name) else {
                    throw CofferError(
                        .invalidRequest, "policies: give one of viewer, modifier, auditor or admin (Coffer's roles); the token was not created")
                }
                if object["role"] != nil, parsed != role { throw CofferError(.invalidRequest, "role and policies name different roles") }
                role = parsed
            }
        }
        self.role = role
        self.ttlSeconds = try object.duration("ttl") ?? 0
        self.explicitMaxTTLSeconds = try object.duration("explicit_max_ttl") ?? 0
        let displayName = try object.string("display_name") ?? "token"
        guard displayName.utf8.count <= 128 else { throw CofferError(.invalidRequest, "display_name is at most 128 bytes") }
        self.displayName = displayName
    }
}

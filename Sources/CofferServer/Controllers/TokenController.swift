import CofferCore
import HTTPTypes
import Hummingbird

/// Vault-shaped token endpoints under `/v1/auth/token/`: create (plain, orphan, by role), lookup,
/// renew and revoke (self, by token, by accessor, orphaning children), and token roles.
public struct TokenController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var tokens: TokenService { runtime.tokens }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        let base = "/v1/auth/token"
        router.post("\(base)/create") { request, context in try await create(request, context, orphan: false, roleName: nil) }
        router.post("\(base)/create-orphan") { request, context in try await create(request, context, orphan: true, roleName: nil) }
        router.post("\(base)/create/:role") { request, context in
            try await create(request, context, orphan: false, roleName: try context.parameters.require("role"))
        }
        router.get("\(base)/lookup-self") { request, context in try await lookupSelf(request, context) }
        router.post("\(base)/lookup-self") { request, context in try await lookupSelf(request, context) }
        router.post("\(base)/lookup") { request, context in try await lookupOther(request, context, by: "token") }
        router.post("\(base)/lookup-accessor") { request, context in try await lookupOther(request, context, by: "accessor") }
        router.post("\(base)/renew-self") { request, context in try await renewSelf(request, context) }
        router.post("\(base)/renew") { request, context in try await renew(request, context, by: "token") }
        router.post("\(base)/renew-accessor") { request, context in try await renew(request, context, by: "accessor") }
        router.post("\(base)/revoke-self") { request, context in try await revokeSelf(request, context) }
        router.post("\(base)/revoke") { request, context in try await revoke(request, context, by: "token", orphanChildren: false) }
        router.post("\(base)/revoke-accessor") { request, context in try await revoke(request, context, by: "accessor", orphanChildren: false) }
        router.post("\(base)/revoke-orphan") { request, context in try await revoke(request, context, by: "token", orphanChildren: true) }
        router.on("\(base)/roles", method: .list) { request, context in try await listRoles(request, context) }
        router.get("\(base)/roles") { request, context in try await listRoles(request, context) }
        router.get("\(base)/roles/:role") { request, context in try await readRole(request, context) }
        router.post("\(base)/roles/:role") { request, context in try await writeRole(request, context) }
        router.put("\(base)/roles/:role") { request, context in try await writeRole(request, context) }
        router.delete("\(base)/roles/:role") { request, context in try await deleteRole(request, context) }
    }

    /// `create`, `create-orphan` and `create/<role>`.
    func create(_ request: Request, _ context: CofferRequestContext, orphan: Bool, roleName: String?) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        let parent = try caller.requireToken()
        context.work.describe("token.create", "token", "")
        let object = try await body.object(request, context)
        let asked = try TokenCreateRequest(object, parentRole: parent.role, orphan: orphan)
        var spec = asked.spec
        var orphanByRole = false
        if let roleName {
            let role = try await tokens.role(named: roleName, tenantID: caller.tenant.id)
            spec = try role.apply(to: spec, requestedRole: asked.requestedRole, fallback: parent.role)
            orphanByRole = role.orphan
        }
        let (token, record) = try await tokens.create(
            tenantID: caller.tenant.id, spec: spec, parent: parent, orphanByRole: orphanByRole, in: context.work)
        var block = Self.authBlock(record, lease: record.ttlSeconds)
        block["client_token"] = .string(token)
        block["coffer_tenant"] = .string(caller.tenant.name)
        return VaultResponse.envelope(data: nil, auth: .object(block), context: context)
    }

    /// Vault's `auth` block for a token (without the token itself).
    static func authBlock(_ record: TokenRecord, lease: Int64) -> [String: JSONValue] {
        [
            "accessor": .string(record.accessor), "policies": [.string(record.role.rawValue)], "token_policies": [.string(record.role.rawValue)],
            "metadata": record.meta.isEmpty ? .null : .object(record.meta.mapValues { .string($0) }), "lease_duration": .int(lease),
            "renewable": .bool(record.renewable), "entity_id": "", "token_type": "service", "orphan": .bool(record.isOrphan),
            "num_uses": .int(record.usesLeft), "coffer_role": .string(record.role.rawValue),
            "coffer_scopes": record.scopes.map { .array($0.map { .string($0.description) }) } ?? .null,
        ]
    }

    /// `renew-self {increment?}`: the caller's own token.
    func renewSelf(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.renew", "token", token.accessor)
        let object = try await body.object(request, context)
        try object.admit(["increment"])
        try await runtime.identity.checkRenewal(token, tenant: caller.tenant)
        let renewed = try await tokens.renew(token, incrementSeconds: try object.duration("increment") ?? 0, in: context.work)
        return renewal(renewed, token: nil, context)
    }

    /// `renew {token, increment?}` and `renew-accessor {accessor, increment?}`.
    func renew(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> Response {
        context.work.describe("token.renew", "token", "")
        let (object, record, caller) = try await target(request, context, by: field, extra: ["increment"])
        try await runtime.identity.checkRenewal(record, tenant: caller.tenant)
        let renewed = try await tokens.renew(record, incrementSeconds: try object.duration("increment") ?? 0, in: context.work)
        return renewal(renewed, token: field == "token" ? try object.string("token") : nil, context)
    }

    /// Vault's answer to a renewal: the auth block with the lease now left.
    func renewal(_ record: TokenRecord, token: String?, _ context: CofferRequestContext) -> Response {
        // Rounded up: a lease just granted for 1800 s reads 1800, not 1799, a few milliseconds later.
        let left = record.expiresAt.map { max(0, ($0 - runtime.clock.nowMillis + 999) / 1000) } ?? 0
        var block = Self.authBlock(record, lease: left)
        if let token { block["client_token"] = .string(token) }
        return VaultResponse.envelope(data: nil, auth: .object(block), context: context)
    }

    /// `lookup-self`: the caller's own token; `data.id` is the token, as Vault answers.
    func lookupSelf(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.lookup", "token", token.accessor)
        let presented = Authenticator.credential(request) ?? ""
        return VaultResponse.data(Self.describe(token, id: presented, tenant: caller.tenant, now: runtime.clock.nowMillis), context: context)
    }

    /// `lookup {token}` (id: the token given) and `lookup-accessor {accessor}` (id: empty, as Vault answers).
    func lookupOther(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> Response {
        context.work.describe("token.lookup", "token", "")
        let (object, record, caller) = try await target(request, context, by: field, extra: [])
        let id = field == "token" ? (try object.string("token") ?? "") : ""
        return VaultResponse.data(Self.describe(record, id: id, tenant: caller.tenant, now: runtime.clock.nowMillis), context: context)
    }

    func revokeSelf(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.revoke", "token", token.accessor)
        try await tokens.revoke(accessor: token.accessor, tenantID: caller.tenant.id, in: context.work)
        return VaultResponse.noContent()
    }

    /// `revoke {token}`, `revoke-accessor {accessor}` (the token and its descendants) and
    /// `revoke-orphan {token}` (admins only: the token alone; its children become orphans).
    func revoke(_ request: Request, _ context: CofferRequestContext, by field: String, orphanChildren: Bool) async throws -> Response {
        context.work.describe(orphanChildren ? "token.revoke_orphan" : "token.revoke", "token", "")
        let (_, record, caller) = try await target(request, context, by: field, extra: [], action: orphanChildren ? .manageTokens : .createTokens)
        context.work.describe(orphanChildren ? "token.revoke_orphan" : "token.revoke", "token", record.accessor)
        let revoked = try await tokens.revoke(
            accessor: record.accessor, tenantID: caller.tenant.id, orphanChildren: orphanChildren, in: context.work)
        context.work.addDetails(["revoked_count": String(revoked.count)])
        return VaultResponse.noContent()
    }

    /// The token a `lookup`/`renew`/`revoke` call names by `field` (`token` or `accessor`), found in the
    /// caller's tenant and within its reach (admins: any; others: itself and the tokens it created).
    /// Unknown parameters are refused. Not found and out of reach answer alike (`NOT_FOUND`).
    func target(
        _ request: Request, _ context: CofferRequestContext, by field: String, extra: Set<String>, action: Role.Action = .createTokens
    ) async throws -> ([String: JSONValue], TokenRecord, Caller) {
        let caller = try await auth.authorize(request, context, action)
        let token = try caller.requireToken()
        let object = try await body.object(request, context)
        try object.admit(extra.union([field]))
        guard let value = try object.string(field), !value.isEmpty else { throw CofferError(.invalidRequest, "missing \(field)") }
        let found: TokenRecord? =
            field == "token" ? try await tokens.find(value) : try await tokens.lookup(accessor: value, tenantID: caller.tenant.id)
        guard let record = found, record.tenantID == caller.tenant.id,
            token.role == .admin || record.parentAccessor == token.accessor || record.accessor == token.accessor
        else { throw CofferError(.notFound, "no token of this tenant within your reach") }
        return (object, record, caller)
    }

    func listRoles(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        context.work.describe("token.role.list", "token_role", "")
        let names = try await tokens.roleNames(tenantID: caller.tenant.id)
        guard !names.isEmpty else { throw CofferError(.notFound, "no token roles") }
        return VaultResponse.data(["keys": .array(names.map { .string($0) })], context: context)
    }

    func readRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        let name = try context.parameters.require("role")
        context.work.describe("token.role.read", "token_role", name)
        let role = try await tokens.role(named: name, tenantID: caller.tenant.id)
        guard case .object(var fields) = role.document else { throw CofferError(.internalError, "token role document") }
        fields["name"] = .string(role.name)
        fields["period"] = fields["token_period"]
        fields["explicit_max_ttl"] = fields["token_explicit_max_ttl"]
        fields["path_suffix"] = ""
        fields["allowed_entity_aliases"] = []
        fields["token_type"] = "service"
        return VaultResponse.data(.object(fields), context: context)
    }

    func writeRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageTokens)
        let name = try context.parameters.require("role")
        context.work.describe("token.role.write", "token_role", name)
        let role = try TokenRoleRequest.role(named: name, try await body.object(request, context))
        try await tokens.putRole(role, tenantID: caller.tenant.id, in: context.work)
        return VaultResponse.noContent()
    }

    func deleteRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageTokens)
        let name = try context.parameters.require("role")
        try await tokens.deleteRole(named: name, tenantID: caller.tenant.id, in: context.work)
        return VaultResponse.noContent()
    }

    /// Vault's lookup shape. `id` is what Vault puts there: the token when the caller presented it, else empty.
    static func describe(_ token: TokenRecord, id: String, tenant: Tenant, now: Int64) -> JSONValue {
        let remaining = token.expiresAt.map { max(0, ($0 - now) / 1000) } ?? 0
        var path =
            token.roleName.map { "auth/token/create/\($0)" } ?? (token.isOrphan ? "auth/token/create-orphan" : "auth/token/create")
        if let origin = token.origin { path = "auth/\(origin.mount)/login" + (origin.role == nil ? "/\(origin.subject)" : "") }
        var fields: [String: JSONValue] = [
            "accessor": .string(token.accessor), "id": .string(id), "creation_time": .int(token.createdAt / 1000),
            "issue_time": .string(Timestamp.rfc3339(token.createdAt)), "creation_ttl": .int(token.ttlSeconds),
            "display_name": .string(token.displayName), "entity_id": "",
            "expire_time": token.expiresAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "explicit_max_ttl": .int(Int(token.maxExpiresAt.map { max(0, ($0 - token.createdAt) / 1000) } ?? 0)),
            "ttl": .int(remaining), "policies": [.string(token.role.rawValue)],
            "meta": token.meta.isEmpty ? .null : .object(token.meta.mapValues { .string($0) }), "num_uses": .int(token.usesLeft),
            "orphan": .bool(token.isOrphan), "path": .string(path), "renewable": .bool(token.renewable), "type": "service",
            "namespace_path": .string(tenant.name + "/"), "coffer_role": .string(token.role.rawValue),
            "coffer_tenant": .string(tenant.name), "revoked": .bool(token.revokedAt != nil),
            "coffer_scopes": token.scopes.map { .array($0.map { .string($0.description) }) } ?? .null,
        ]
        if token.periodSeconds > 0 { fields["period"] = .int(token.periodSeconds) }
        if !token.boundCIDRs.isEmpty { fields["bound_cidrs"] = .array(token.boundCIDRs.map { .string($0) }) }
        if let role = token.roleName { fields["role"] = .string(role) }
        return .object(fields)
    }
}

import CofferCore
import HTTPTypes
import Hummingbird

/// Vault-shaped token endpoints under `/v1/auth/token/`.
public struct TokenController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.post("/v1/auth/token/create") { request, context in try await create(request, context) }
        router.get("/v1/auth/token/lookup-self") { request, context in try await lookupSelf(request, context) }
        router.post("/v1/auth/token/lookup-self") { request, context in try await lookupSelf(request, context) }
        router.post("/v1/auth/token/lookup-accessor") { request, context in try await lookupAccessor(request, context) }
        router.post("/v1/auth/token/revoke-self") { request, context in
            let caller = try await auth.authenticate(request, context)
            let token = try caller.requireToken()
            context.work.describe("token.revoke", "token", token.accessor)
            try await runtime.tokens.revoke(accessor: token.accessor, tenantID: caller.tenant.id, in: context.work)
            return VaultResponse.noContent()
        }
        router.post("/v1/auth/token/revoke-accessor") { request, context in try await revokeAccessor(request, context) }
        router.post("/v1/auth/token/renew-self") { request, context in try await renewSelf(request, context) }
        router.post("/v1/auth/token/renew") { request, context in try await renew(request, context, by: "token") }
        router.post("/v1/auth/token/renew-accessor") { request, context in try await renew(request, context, by: "accessor") }
    }

    func create(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        let parent = try caller.requireToken()
        context.work.describe("token.create", "token", "")
        let object = try await body.object(request, context)
        let request = try TokenCreateRequest(object, parentRole: parent.role)
        let role = request.role
        let (token, record) = try await runtime.tokens.create(
            tenantID: caller.tenant.id, role: role, displayName: request.displayName, ttlSeconds: request.ttlSeconds,
            explicitMaxTTLSeconds: request.explicitMaxTTLSeconds, renewable: request.renewable, parent: parent, in: context.work)
        return VaultResponse.envelope(
            data: nil,
            auth: [
                "client_token": .string(token), "accessor": .string(record.accessor), "policies": [.string(role.rawValue)],
                "token_policies": [.string(role.rawValue)], "metadata": nil, "lease_duration": .int(record.ttlSeconds),
                "renewable": .bool(record.renewable),
                "entity_id": "", "token_type": "service", "orphan": false, "coffer_role": .string(role.rawValue),
                "coffer_tenant": .string(caller.tenant.name),
            ], context: context)
    }

    /// `renew-self {increment?}`: the caller's own token.
    func renewSelf(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.renew", "token", token.accessor)
        let object = try await body.object(request, context)
        if let unknown = object.keys.first(where: { $0 != "increment" }) { throw CofferError(.invalidRequest, "unknown parameter '\(unknown)'") }
        let renewed = try await runtime.tokens.renew(token, incrementSeconds: try object.duration("increment") ?? 0, in: context.work)
        return renewal(renewed, token: nil, context)
    }

    /// `renew {token, increment?}` and `renew-accessor {accessor, increment?}`: a token the caller
    /// created, or any token of the tenant for an admin.
    func renew(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        let token = try caller.requireToken()
        context.work.describe("token.renew", "token", "")
        let object = try await body.object(request, context)
        if let unknown = object.keys.first(where: { $0 != "increment" && $0 != field }) {
            throw CofferError(.invalidRequest, "unknown parameter '\(unknown)'")
        }
        guard let value = try object.string(field) else { throw CofferError(.invalidRequest, "missing \(field)") }
        let found: TokenRecord?
        if field == "token" {
            found = try? await runtime.tokens.authenticate(value)
        } else {
            found = try await runtime.tokens.lookup(accessor: value, tenantID: caller.tenant.id)
        }
        guard let record = found, record.tenantID == caller.tenant.id,
            token.role == .admin || record.parentAccessor == token.accessor || record.accessor == token.accessor
        else { throw CofferError(.notFound, "no token of this tenant that you may renew") }
        let renewed = try await runtime.tokens.renew(record, incrementSeconds: try object.duration("increment") ?? 0, in: context.work)
        return renewal(renewed, token: field == "token" ? value : nil, context)
    }

    /// Vault's answer to a renewal: the auth block with the lease now left.
    func renewal(_ record: TokenRecord, token: String?, _ context: CofferRequestContext) -> Response {
        let left = record.expiresAt.map { max(0, ($0 - runtime.clock.nowMillis) / 1000) } ?? 0
        var auth: [String: JSONValue] = [
            "accessor": .string(record.accessor), "policies": [.string(record.role.rawValue)], "token_policies": [.string(record.role.rawValue)],
            "lease_duration": .int(Int(left)), "renewable": .bool(record.renewable), "token_type": "service", "orphan": false,
        ]
        if let token { auth["client_token"] = .string(token) }
        return VaultResponse.envelope(data: nil, auth: .object(auth), context: context)
    }

    func lookupSelf(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.lookup", "token", token.accessor)
        return VaultResponse.data(Self.describe(token, tenant: caller.tenant, now: runtime.clock.nowMillis), context: context)
    }

    func lookupAccessor(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .createTokens)
        let token = try caller.requireToken()
        context.work.describe("token.lookup", "token", "")
        guard let accessor = try await body.object(request, context).string("accessor") else {
            throw CofferError(.invalidRequest, "missing accessor")
        }
        guard let record = try await runtime.tokens.lookup(accessor: accessor, tenantID: caller.tenant.id),
            token.role == .admin || record.parentAccessor == token.accessor || record.accessor == token.accessor
        else {
            throw CofferError(.notFound, "no token with this accessor")
        }
        return VaultResponse.data(Self.describe(record, tenant: caller.tenant, now: runtime.clock.nowMillis), context: context)
    }

    func revokeAccessor(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let token = try caller.requireToken()
        context.work.describe("token.revoke", "token", "")
        guard let accessor = try await body.object(request, context).string("accessor") else {
            throw CofferError(.invalidRequest, "missing accessor")
        }
        guard let record = try await runtime.tokens.lookup(accessor: accessor, tenantID: caller.tenant.id) else {
            throw CofferError(.notFound, "no token with this accessor")
        }
        guard token.role == .admin || record.parentAccessor == token.accessor || record.accessor == token.accessor else {
            throw CofferError(.permissionDenied, "only admins, the creating token or the token itself may revoke it")
        }
        try await runtime.tokens.revoke(accessor: accessor, tenantID: caller.tenant.id, in: context.work)
        return VaultResponse.noContent()
    }

    /// Vault's lookup shape. The token itself is never echoed: `id` carries the accessor.
    static func describe(_ token: TokenRecord, tenant: Tenant, now: Int64) -> JSONValue {
        let remaining = token.expiresAt.map { max(0, ($0 - now) / 1000) } ?? 0
        return [
            "accessor": .string(token.accessor), "id": .string(token.accessor), "creation_time": .int(token.createdAt / 1000),
            "creation_ttl": .int(token.ttlSeconds), "display_name": .string(token.displayName),
            "expire_time": token.expiresAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "explicit_max_ttl": .int(Int(token.maxExpiresAt.map { max(0, ($0 - token.createdAt) / 1000) } ?? 0)),
            "ttl": .int(remaining), "policies": [.string(token.role.rawValue)], "meta": nil, "num_uses": 0,
            "orphan": .bool(token.parentAccessor == nil), "path": "auth/token/create", "renewable": .bool(token.renewable), "type": "service",
            "namespace_path": .string(tenant.name + "/"), "coffer_role": .string(token.role.rawValue),
            "coffer_tenant": .string(tenant.name), "revoked": .bool(token.revokedAt != nil),
        ]
    }
}

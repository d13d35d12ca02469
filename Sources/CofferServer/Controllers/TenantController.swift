import CofferCore
import HTTPTypes
import Hummingbird

/// `/v1/sys/tenants`: create and list tenants. Only admins of the system tenant may.
public struct TenantController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.post("/v1/sys/tenants") { request, context in try await create(request, context) }
        router.get("/v1/sys/tenants") { request, context in try await list(request, context) }
        router.on("/v1/sys/tenants", method: .list) { request, context in try await list(request, context) }
    }

    func systemAdmin(_ request: Request, _ context: CofferRequestContext) async throws -> Caller {
        let caller = try await runtime.authenticator.authorize(request, context, .manageTenants)
        guard caller.tenant.isSystem else {
            throw CofferError(.permissionDenied, "only admins of the system tenant manage tenants")
        }
        return caller
    }

    func create(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        _ = try await systemAdmin(request, context)
        context.work.describe("tenant.create", "tenant", "")
        let object = try await body.object(request, context)
        try object.admit(["name", "environment"])
        guard let name = try object.string("name") else { throw CofferError(.invalidRequest, "missing name") }
        let environmentName = try object.string("environment") ?? "development"
        guard let environment = TenantEnvironment(rawValue: environmentName) else {
            throw CofferError(.invalidRequest, "environment must be development, staging or production")
        }
        let (tenant, token) = try await runtime.tenants.create(name: name, environment: environment, in: context.work)
        return VaultResponse.envelope(
            data: Self.describe(tenant),
            auth: ["client_token": .string(token), "policies": ["admin"], "coffer_role": "admin", "coffer_tenant": .string(tenant.name)],
            context: context)
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        _ = try await systemAdmin(request, context)
        context.work.describe("tenant.list", "tenant", "")
        let tenants = try await runtime.storage.tenants.listTenants()
        return VaultResponse.data(["keys": .strings(tenants.map(\.name)), "tenants": .array(tenants.map(Self.describe))], context: context)
    }

    static func describe(_ tenant: Tenant) -> JSONValue {
        [
            "id": .string(tenant.id), "name": .string(tenant.name), "environment": .string(tenant.environment.rawValue),
            "active_key_version": .int(tenant.activeKeyVersion), "system": .bool(tenant.isSystem),
            "created_time": .string(Timestamp.rfc3339(tenant.createdAt)),
        ]
    }
}

/// Creates tenants (each with its own first data key) and initialises a new Coffer.
public struct TenantService: Sendable {
    private let tenants: any TenantStore
    private let keyring: Keyring
    private let tokens: TokenService
    private let clock: any CofferClock

    /// Creates the service.
    public init(tenants: any TenantStore, keyring: Keyring, tokens: TokenService, clock: any CofferClock) {
        self.tenants = tenants
        self.keyring = keyring
        self.tokens = tokens
        self.clock = clock
    }

    /// Creates a tenant and an admin token for it (returned once).
    public func create(name: String, environment: TenantEnvironment, isSystem: Bool = false, in work: UnitOfWork) async throws -> (Tenant, String) {
        guard Tenant.isValidName(name) else {
            throw CofferError(.invalidRequest, "tenant names are 1-64 characters of a-z, 0-9, '-' and '_'")
        }
        // `/v1/gateway/projects/…` is the gateway's management API; a tenant of that name could not be called.
        guard name != "projects" else { throw CofferError(.invalidRequest, "the tenant name 'projects' is reserved") }
        let id = Base62.encode(SecureRandom.bytes(16), minLength: 22)
        let tenant = Tenant(id: id, name: name, environment: environment, activeKeyVersion: 1, isSystem: isSystem, createdAt: clock.nowMillis)
        let firstKey = try keyring.newTenantKey(tenantID: id)
        try await tenants.createTenant(tenant, firstKey: firstKey, state: try keyring.firstState(for: firstKey), in: work)
        // The tenant's first admin token is part of making the tenant, not a second audited act.
        let (token, _) = try await tokens.create(
            tenantID: id, role: .admin, displayName: "\(name)-admin", ttlSeconds: 0, parent: nil, in: .unaudited())
        return (tenant, token)
    }

    /// Initialises an empty Coffer: the system tenant and its root (admin) token. `nil` if already initialised.
    public func initialise(name: String, environment: TenantEnvironment) async throws -> (Tenant, String)? {
        guard try await tenants.systemTenant() == nil else { return nil }
        return try await create(name: name, environment: environment, isSystem: true, in: .unaudited())
    }
}

import CofferCore
import HTTPTypes
import Hummingbird

/// The endpoints of enabled auth methods under `/v1/auth/<path>/` (Vault's shapes): userpass users and
/// logins, AppRole roles, secret IDs and logins, JWT/OIDC configuration, roles and logins. Routes that
/// several method types share (`config`, `role/<name>`, `login`) are dispatched by the type of the
/// method enabled at the path; a route the type does not have answers `ROUTE_NOT_FOUND`.
///
/// Logins need no token: the tenant is the one `X-Vault-Namespace` names, else the system tenant. Every
/// login is audited (`auth.login`, or `auth.login.failed` with the reason), and a failed one counts
/// against the client address's anonymous rate limit.
public struct IdentityController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var identity: IdentityService { runtime.identity }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 64 * 1024)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        let base = "/v1/auth/:mount"
        router.get("\(base)/config") { request, context in try await readConfig(request, context) }
        router.post("\(base)/config") { request, context in try await writeConfig(request, context) }
        router.put("\(base)/config") { request, context in try await writeConfig(request, context) }
        router.post("\(base)/login") { request, context in try await login(request, context) }
        router.put("\(base)/login") { request, context in try await login(request, context) }
        router.post("\(base)/login/:name") { request, context in try await loginUser(request, context) }
        router.put("\(base)/login/:name") { request, context in try await loginUser(request, context) }
        // OIDC's browser flow (jwt, oidc).
        router.post("\(base)/oidc/auth_url") { request, context in try await oidcAuthURL(request, context) }
        router.put("\(base)/oidc/auth_url") { request, context in try await oidcAuthURL(request, context) }
        router.get("\(base)/oidc/callback") { request, context in try await oidcCallback(request, context) }
        router.post("\(base)/oidc/callback") { request, context in try await oidcCallback(request, context) }
        // Users (userpass).
        router.on("\(base)/users", method: .list) { request, context in try await listUsers(request, context) }
        router.get("\(base)/users") { request, context in try await listUsers(request, context) }
        router.get("\(base)/users/:name") { request, context in try await readUser(request, context) }
        router.post("\(base)/users/:name") { request, context in try await writeUser(request, context, only: nil) }
        router.put("\(base)/users/:name") { request, context in try await writeUser(request, context, only: nil) }
        router.delete("\(base)/users/:name") { request, context in try await deleteUser(request, context) }
        router.post("\(base)/users/:name/password") { request, context in try await writeUser(request, context, only: ["password"]) }
        router.put("\(base)/users/:name/password") { request, context in try await writeUser(request, context, only: ["password"]) }
        router.post("\(base)/users/:name/policies") { request, context in
            try await writeUser(request, context, only: ["token_policies", "policies"])
        }
        // Roles (AppRole and JWT).
        router.on("\(base)/role", method: .list) { request, context in try await listRoles(request, context) }
        router.get("\(base)/role") { request, context in try await listRoles(request, context) }
        router.get("\(base)/role/:name") { request, context in try await readRole(request, context) }
        router.post("\(base)/role/:name") { request, context in try await writeRole(request, context) }
        router.put("\(base)/role/:name") { request, context in try await writeRole(request, context) }
        router.delete("\(base)/role/:name") { request, context in try await deleteRole(request, context) }
        // Certificate roles and CRLs (cert).
        router.on("\(base)/certs", method: .list) { request, context in try await listCertEntries(request, context, kind: .certRole) }
        router.get("\(base)/certs") { request, context in try await listCertEntries(request, context, kind: .certRole) }
        router.get("\(base)/certs/:name") { request, context in try await readCertRole(request, context) }
        router.post("\(base)/certs/:name") { request, context in try await writeCertRole(request, context) }
        router.put("\(base)/certs/:name") { request, context in try await writeCertRole(request, context) }
        router.delete("\(base)/certs/:name") { request, context in try await deleteCertEntry(request, context, kind: .certRole) }
        router.get("\(base)/crls/:name") { request, context in try await readCRL(request, context) }
        router.post("\(base)/crls/:name") { request, context in try await writeCRL(request, context) }
        router.put("\(base)/crls/:name") { request, context in try await writeCRL(request, context) }
        router.delete("\(base)/crls/:name") { request, context in try await deleteCertEntry(request, context, kind: .crl) }
        // AppRole role IDs and secret IDs.
        router.get("\(base)/role/:name/role-id") { request, context in try await readRoleID(request, context) }
        router.post("\(base)/role/:name/role-id") { request, context in try await writeRoleID(request, context) }
        router.post("\(base)/role/:name/secret-id") { request, context in try await generateSecretID(request, context) }
        router.put("\(base)/role/:name/secret-id") { request, context in try await generateSecretID(request, context) }
        router.on("\(base)/role/:name/secret-id", method: .list) { request, context in try await listSecretIDs(request, context) }
        router.get("\(base)/role/:name/secret-id") { request, context in try await listSecretIDs(request, context) }
        router.post("\(base)/role/:name/secret-id/lookup") { request, context in try await lookupSecretID(request, context, by: "secret_id") }
        router.post("\(base)/role/:name/secret-id-accessor/lookup") { request, context in
            try await lookupSecretID(request, context, by: "secret_id_accessor")
        }
        router.post("\(base)/role/:name/secret-id/destroy") { request, context in try await destroySecretID(request, context, by: "secret_id") }
        router.delete("\(base)/role/:name/secret-id/destroy") { request, context in try await destroySecretID(request, context, by: "secret_id") }
        router.post("\(base)/role/:name/secret-id-accessor/destroy") { request, context in
            try await destroySecretID(request, context, by: "secret_id_accessor")
        }
        router.delete("\(base)/role/:name/secret-id-accessor/destroy") { request, context in
            try await destroySecretID(request, context, by: "secret_id_accessor")
        }
    }

    // MARK: Shared

    /// An admin of the caller's tenant and the method at the path, of one of `kinds`.
    func admin(_ request: Request, _ context: CofferRequestContext, kinds: Set<AuthMethod.Kind>) async throws -> (Caller, AuthMethod) {
        let caller = try await auth.authorize(request, context, .manageAuth)
        let method = try await identity.method(tenant: caller.tenant, path: try context.parameters.require("mount"), kinds: kinds)
        return (caller, method)
    }

    /// The tenant and method of a login: the tenant `X-Vault-Namespace` names, else the system tenant; an
    /// unknown tenant answers as a tenant without the method would (`ROUTE_NOT_FOUND`).
    func loginTarget(
        _ request: Request, _ context: CofferRequestContext, kinds: Set<AuthMethod.Kind>, fallbackTenant: String? = nil
    ) async throws -> (Tenant, AuthMethod) {
        let mount = try context.parameters.require("mount")
        context.work.describe("auth.login", "auth_method", String(Mount.trim(mount).prefix(64)))
        let tenants = runtime.storage.tenants
        let found: Tenant?
        if let named = Authenticator.requestedTenant(request) {
            found = try await tenants.tenant(named: named)
        } else {
            found = try await tenants.systemTenant()
        }
        guard let tenant = found else {
            throw CofferError(.routeNotFound, "no auth method is enabled at auth/\(Mount.trim(mount).prefix(64))/")
        }
        try auth.identify(tenant, AuditActor(kind: "login", id: "", role: "", displayName: ""), operation: nil, in: context.work)
        return (tenant, try await identity.method(tenant: tenant, path: mount, kinds: kinds))
    }

    /// Runs a login; a refusal is recorded as `auth.login.failed` and counted against the client
    /// address's anonymous rate limit. The answer is Vault's `auth` block with the new token.
    func answerLogin(
        _ context: CofferRequestContext, tenant: Tenant, _ login: () async throws -> IdentityService.Login
    ) async throws -> Response {
        let result: IdentityService.Login
        do {
            result = try await login()
        } catch let error as CofferError where Self.loginRefusals.contains(error.code) {
            context.work.rename("auth.login.failed")
            try await auth.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
            throw error
        }
        var block = TokenController.authBlock(result.record, lease: result.record.ttlSeconds)
        block["client_token"] = .string(result.token)
        block["coffer_tenant"] = .string(tenant.name)
        block["mfa_requirement"] = .null
        return VaultResponse.envelope(data: nil, auth: .object(block), context: context)
    }

    /// Codes that mean the login itself was refused (not the request malformed or the server unwell).
    static let loginRefusals: Set<ErrorCode> = [
        .loginFailed, .loginLocked, .jwtInvalid, .jwtExpired, .certificateInvalid, .permissionDenied, .upstreamUnavailable,
    ]

    func readConfig(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (_, method) = try await admin(request, context, kinds: [.userpass, .jwt, .oidc, .cert])
        context.work.describe("auth.config.read", "auth_method", method.path)
        if method.kind == .cert { return VaultResponse.data(["disable_binding": false, "enable_identity_alias_metadata": false], context: context) }
        if method.kind == .userpass { return VaultResponse.data(try UserpassConfig(document: method.config).document, context: context) }
        return VaultResponse.data(Self.describeJWTConfig(try JWTAuthConfig(document: method.config)), context: context)
    }

    func writeConfig(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.userpass, .jwt, .oidc, .cert])
        let object = try await body.object(request, context)
        if method.kind == .cert {
            // Vault's cert settings, at their defaults only: nothing to store.
            try object.admit([], defaultsOnly: ["disable_binding": [false], "enable_identity_alias_metadata": [false], "ocsp_cache_size": [100]])
            return VaultResponse.noContent()
        }
        let config: JSONValue =
            method.kind == .userpass
            ? try Self.userpassConfig(object, current: try UserpassConfig(document: method.config)).document
            : try Self.jwtConfig(object).document
        try await identity.configure(tenant: caller.tenant, method, config: config, in: context.work)
        return VaultResponse.noContent()
    }

    func listRoles(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle, .jwt, .oidc])
        context.work.describe("auth.role.list", "auth_role", method.path)
        let names = try await identity.roleNames(tenant: caller.tenant, method: method)
        guard !names.isEmpty else { throw CofferError(.notFound, "no roles") }
        return VaultResponse.data(["keys": .array(names.map { .string($0) })], context: context)
    }

    func readRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle, .jwt, .oidc])
        let name = try context.parameters.require("name")
        context.work.describe("auth.role.read", "auth_role", "\(method.path)/\(name.prefix(128))")
        if method.kind == .approle {
            return VaultResponse.data(Self.describe(try await identity.appRole(tenant: caller.tenant, method: method, name: name)), context: context)
        }
        return VaultResponse.data(Self.describe(try await identity.jwtRole(tenant: caller.tenant, method: method, name: name)), context: context)
    }

    func writeRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle, .jwt, .oidc])
        let name = try context.parameters.require("name")
        let object = try await body.object(request, context)
        if method.kind == .approle {
            let current = try? await identity.appRole(tenant: caller.tenant, method: method, name: name)
            let role = try Self.appRole(object, name: name, current: current)
            try await identity.writeAppRole(tenant: caller.tenant, method: method, role, in: context.work)
        } else {
            let current = try? await identity.jwtRole(tenant: caller.tenant, method: method, name: name)
            let role = try Self.jwtRole(object, name: name, current: current)
            try await identity.writeJWTRole(tenant: caller.tenant, method: method, role, in: context.work)
        }
        return VaultResponse.noContent()
    }

    func deleteRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle, .jwt, .oidc])
        let name = try context.parameters.require("name")
        if method.kind == .approle {
            try await identity.deleteAppRole(tenant: caller.tenant, method: method, name: name, in: context.work)
        } else {
            try await identity.deleteJWTRole(tenant: caller.tenant, method: method, name: name, in: context.work)
        }
        return VaultResponse.noContent()
    }

    /// `POST auth/<path>/login`: AppRole `{role_id, secret_id}`, JWT `{role?, jwt}`, or cert `{name?}` with
    /// the TLS client certificate of the connection.
    func login(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (tenant, method) = try await loginTarget(request, context, kinds: [.approle, .jwt, .oidc, .cert])
        // Login bodies hold credentials: never recorded, not even redacted.
        let object = try await body.object(request, context, recording: false)
        return try await answerLogin(context, tenant: tenant) {
            if method.kind == .approle {
                try object.admit(["role_id", "secret_id"])
                guard let roleID = try object.string("role_id"), let secretID = try object.string("secret_id") else {
                    throw CofferError(.invalidRequest, "role_id and secret_id are required")
                }
                return try await identity.loginAppRole(
                    tenant: tenant, method: method, roleID: roleID, secretID: secretID, clientIP: context.clientIP, in: context.work)
            }
            if method.kind == .cert {
                try object.admit(["name"])
                let certificate = await context.clientCertificate().flatMap { try? $0.toDERBytes() }
                return try await identity.loginCert(
                    tenant: tenant, method: method, roleName: try object.string("name").flatMap { $0.isEmpty ? nil : $0 },
                    certificateDER: certificate, verifier: CertificateLoginVerifier(), in: context.work)
            }
            try object.admit(["role", "jwt"])
            guard let jwt = try object.string("jwt") else { throw CofferError(.invalidRequest, "jwt is required") }
            return try await identity.loginJWT(
                tenant: tenant, method: method, roleName: try object.string("role").flatMap { $0.isEmpty ? nil : $0 }, jwt: jwt,
                verifier: runtime.jwtLogins, in: context.work)
        }
    }
}

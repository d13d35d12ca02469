/// A tenant's auth methods (Vault's `sys/auth`) and the logins through them: each login yields an orphan,
/// renewable Coffer token bound to the tenant, carrying the role and scopes its user or role grants and
/// the ``LoginOrigin`` that lets sessions be revoked together and renewals re-checked.
public struct IdentityService: Sendable {
    let store: any IdentityStore
    let tokens: TokenService
    let tokenStore: any TokenStore
    let hasher: any CredentialHashing
    let clock: any CofferClock
    /// Waits out a failed login's progressive delay (injected so tests need not wait).
    let pause: @Sendable (Int64) async -> Void

    /// Creates the service.
    public init(
        store: any IdentityStore, tokens: TokenService, tokenStore: any TokenStore, hasher: any CredentialHashing, clock: any CofferClock,
        pause: @escaping @Sendable (Int64) async -> Void = { millis in try? await Task.sleep(for: .milliseconds(millis)) }
    ) {
        self.store = store
        self.tokens = tokens
        self.tokenStore = tokenStore
        self.hasher = hasher
        self.clock = clock
        self.pause = pause
    }

    /// A login's answer: the token (shown once) and its record.
    public struct Login: Sendable {
        /// The token itself.
        public let token: String
        /// Its stored record.
        public let record: TokenRecord
    }

    // MARK: Methods

    /// Every method of the tenant by path, `token/` included.
    public func methods(tenant: Tenant) async throws -> [AuthMethod] {
        [AuthMethod.token] + (try await store.authMethods(tenantID: tenant.id))
    }

    /// The method at `path`; `ROUTE_NOT_FOUND` (Vault's 404) when none is enabled there.
    public func method(tenant: Tenant, path raw: String) async throws -> AuthMethod {
        let path = Mount.trim(raw)
        if path == AuthMethod.token.path { return .token }
        guard AuthMethod.isValidPath(path), let method = try await store.authMethod(tenantID: tenant.id, path: path) else {
            throw CofferError(.routeNotFound, "no auth method is enabled at auth/\(path.prefix(64))/")
        }
        return method
    }

    /// The method at `path` if it is one of `kinds`; `ROUTE_NOT_FOUND` otherwise (the route does not exist there).
    public func method(tenant: Tenant, path: String, kinds: Set<AuthMethod.Kind>) async throws -> AuthMethod {
        let method = try await method(tenant: tenant, path: path)
        guard kinds.contains(method.kind) else {
            throw CofferError(.routeNotFound, "unsupported path: the auth method at auth/\(method.path)/ is \(method.kind.rawValue)")
        }
        return method
    }

    /// Enables a method of `kind` at a free `path`.
    public func enable(
        tenant: Tenant, path raw: String, kind: AuthMethod.Kind, description: String, in work: UnitOfWork
    ) async throws
        -> AuthMethod
    {
        let path = Mount.trim(raw)
        work.describe("sys.auth.enable", "auth_method", String(path.prefix(64)), ["type": kind.rawValue])
        guard AuthMethod.isValidPath(path) else {
            throw CofferError(.invalidRequest, "an auth method path is one segment of 1-64 lowercase letters, digits, '-' or '_', and not 'token'")
        }
        guard kind != .token else { throw CofferError(.invalidRequest, "the token auth method always exists at auth/token/") }
        guard description.utf8.count <= 1_024 else { throw CofferError(.invalidRequest, "description is at most 1024 bytes") }
        let method = AuthMethod(
            path: path, kind: kind, description: description,
            accessor: "auth_\(kind.rawValue)_" + AccessToken.generateAccessor().prefix(8).lowercased(), createdAt: clock.nowMillis)
        guard try await store.insertAuthMethod(tenantID: tenant.id, method, in: work) else {
            throw CofferError(.invalidRequest, "path is already in use at auth/\(path)/")
        }
        return method
    }

    /// Disables the method at `path`: its users, roles and secret IDs are deleted and every token its
    /// logins made is revoked, in one transaction. As in Vault, disabling a free path succeeds.
    public func disable(tenant: Tenant, path raw: String, in work: UnitOfWork) async throws {
        let path = Mount.trim(raw)
        work.describe("sys.auth.disable", "auth_method", String(path.prefix(64)))
        guard path != AuthMethod.token.path else { throw CofferError(.invalidRequest, "the token auth method cannot be disabled") }
        guard AuthMethod.isValidPath(path), try await store.authMethod(tenantID: tenant.id, path: path) != nil else {
            work.addDetails(["existed": "false"])
            return
        }
        work.addDetails(["existed": "true"])
        let revoked = try await store.deleteAuthMethod(tenantID: tenant.id, path: path, at: clock.nowMillis, in: work)
        work.addDetails(["revoked_count": String(revoked?.count ?? 0)])
    }

    /// Saves a method's configuration (`auth/<path>/config`).
    public func configure(tenant: Tenant, _ method: AuthMethod, config: JSONValue, in work: UnitOfWork) async throws {
        var changed = method
        changed.config = config
        work.describe("auth.config.write", "auth_method", method.path, ["type": method.kind.rawValue])
        try await store.saveAuthMethod(tenantID: tenant.id, changed, in: work)
    }

    /// Saves a changed description (`sys/auth/<path>/tune`).
    public func saveDescription(tenant: Tenant, _ method: AuthMethod, in work: UnitOfWork) async throws {
        try await store.saveAuthMethod(tenantID: tenant.id, method, in: work)
    }

    // MARK: Sessions

    /// Issues the token of a successful login.
    func issue(
        tenant: Tenant, settings: LoginTokenSettings, role: Role, origin: LoginOrigin, displayName: String, meta: [String: String],
        extraCIDRs: [String] = [], renewable: Bool = true, in work: UnitOfWork
    ) async throws -> Login {
        var spec = settings.spec(role: role, displayName: displayName, origin: origin, meta: meta)
        if !extraCIDRs.isEmpty { spec.boundCIDRs = extraCIDRs }
        spec.renewable = renewable
        work.addDetails(["login_mount": origin.mount, "login_subject": origin.subject])
        let (token, record) = try await tokens.create(tenantID: tenant.id, spec: spec, parent: nil, in: work)
        return Login(token: token, record: record)
    }

    /// Revokes every session that logins through `mount` made — of one `subject` (a user) or one `role`,
    /// or all of them when neither is given. Returns how many tokens were revoked.
    public func revokeSessions(tenant: Tenant, mount path: String, role: String?, subject: String?, in work: UnitOfWork) async throws -> Int {
        let method = try await method(tenant: tenant, path: path)
        work.describe("auth.sessions.revoke", "auth_method", method.path, ["role": role ?? "", "subject": subject ?? ""])
        let revoked = try await tokenStore.revokeSessions(
            tenantID: tenant.id, mount: method.path, role: role, subject: subject, at: clock.nowMillis, in: work)
        work.addDetails(["revoked_count": String(revoked.count)])
        return revoked.count
    }

    /// Whether a login token may still be renewed: the method that made it, and the user or role behind
    /// it, still exist and still grant the token's role; a locked user renews nothing. Tokens not made by
    /// a login pass. `PERMISSION_DENIED` saying what changed otherwise (the client logs in again).
    public func checkRenewal(_ token: TokenRecord, tenant: Tenant) async throws {
        // Tokens not made by a login, and sessions issued not renewable (the token service refuses those).
        guard let origin = token.origin, token.renewable else { return }
        let denied = { (why: String) in CofferError(.permissionDenied, "this session cannot be renewed: \(why); log in again") }
        guard let method = try await store.authMethod(tenantID: tenant.id, path: origin.mount) else {
            throw denied("its auth method was disabled")
        }
        let granted: Role?
        switch method.kind {
        case .userpass:
            guard let user = try await userpassUser(tenant: tenant, mount: method.path, name: origin.subject) else {
                throw denied("the user was deleted")
            }
            let config = try UserpassConfig(document: method.config)
            if config.userLockout.lockedUntil(
                try await store.lockout(tenantID: tenant.id, mount: method.path, subject: "user:" + origin.subject), now: clock.nowMillis) != nil
            {
                throw denied("the user is locked")
            }
            granted = user.settings.role
        case .approle:
            guard let name = origin.role, let role = try await appRole(tenant: tenant, mount: method.path, name: name) else {
                throw denied("the role was deleted")
            }
            granted = role.settings.role
        case .jwt, .oidc:
            guard let name = origin.role, let role = try await jwtRole(tenant: tenant, mount: method.path, name: name) else {
                throw denied("the role was deleted")
            }
            // A role taken from the identity provider's groups is re-checked only by a new login (such
            // sessions are issued not renewable); a fixed role must still be the one granted.
            guard role.roleMap.isEmpty, let fixed = role.settings.role else {
                throw denied("its role comes from the identity provider's groups, which only a new login re-checks")
            }
            granted = fixed
        case .cert:
            guard let name = origin.role, let role = try await certRole(tenant: tenant, mount: method.path, name: name) else {
                throw denied("the role was deleted")
            }
            granted = role.settings.role
        case .token:
            granted = token.role
        }
        guard granted == token.role else { throw denied("the role it grants changed") }
    }
}

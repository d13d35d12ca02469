extension IdentityService {
    /// A JWT role, or nil.
    func jwtRole(tenant: Tenant, mount: String, name: String) async throws -> JWTRole? {
        guard AuthMethod.isValidName(name), let document = try await store.authEntry(tenantID: tenant.id, mount: mount, AuthEntryKey(.role, name))
        else { return nil }
        return try JWTRole(name: name, document: document)
    }

    /// A JWT role, or `NOT_FOUND`.
    public func jwtRole(tenant: Tenant, method: AuthMethod, name: String) async throws -> JWTRole {
        guard let role = try await jwtRole(tenant: tenant, mount: method.path, name: name) else {
            throw CofferError(.notFound, "no role with this name")
        }
        return role
    }

    /// Creates or replaces a JWT role; a changed fixed Coffer role revokes the role's sessions.
    public func writeJWTRole(tenant: Tenant, method: AuthMethod, _ role: JWTRole, in work: UnitOfWork) async throws {
        work.describe("auth.jwt.role.write", "auth_role", "\(method.path)/\(role.name.prefix(128))")
        guard AuthMethod.isValidName(role.name) else {
            throw CofferError(.invalidRequest, "a role name is 1-128 letters, digits, '.', '_', '-' or '@', not starting with '.'")
        }
        guard role.settings.role != nil || (!role.roleMap.isEmpty && !role.groupsClaim.isEmpty) else {
            throw CofferError(
                .invalidRequest, "token_policies: give one of Coffer's roles, or groups_claim with coffer_role_map; nothing was changed")
        }
        let existing = try await jwtRole(tenant: tenant, mount: method.path, name: role.name)
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [AuthEntryKey(.role, role.name): role.document], delete: [], dropSecretIDsOf: nil, in: work)
        if let existing, existing.settings.role != role.settings.role || existing.roleMap != role.roleMap {
            _ = try await tokenStore.revokeSessions(
                tenantID: tenant.id, mount: method.path, role: role.name, subject: nil, at: clock.nowMillis, in: work)
        }
    }

    /// Deletes a JWT role and revokes its sessions; `NOT_FOUND` if there was none.
    public func deleteJWTRole(tenant: Tenant, method: AuthMethod, name: String, in work: UnitOfWork) async throws {
        work.describe("auth.jwt.role.delete", "auth_role", "\(method.path)/\(name.prefix(128))")
        guard AuthMethod.isValidName(name),
            try await store.writeAuthEntries(
                tenantID: tenant.id, mount: method.path, put: [:], delete: [AuthEntryKey(.role, name)], dropSecretIDsOf: nil, in: work) == 1
        else { throw CofferError(.notFound, "no role with this name") }
        _ = try await tokenStore.revokeSessions(tenantID: tenant.id, mount: method.path, role: name, subject: nil, at: clock.nowMillis, in: work)
    }

    /// Logs in with a JWT under `roleName` (or the method's `default_role`): the signature is checked
    /// against the configured keys, then the role's claim rules; the answer is a session for the JWT's user.
    public func loginJWT(
        tenant: Tenant, method: AuthMethod, roleName: String?, jwt: String, verifier: any JWTSignatureVerifying, in work: UnitOfWork
    ) async throws -> Login {
        work.describe("auth.login", "auth_role", method.path, ["method": method.kind.rawValue, "mount": method.path])
        let config = try JWTAuthConfig(document: method.config)
        guard config.isConfigured else { throw CofferError(.invalidRequest, "this auth method is not configured yet (auth/\(method.path)/config)") }
        let name = roleName ?? config.defaultRole
        guard !name.isEmpty else { throw CofferError(.invalidRequest, "role is required (the method has no default_role)") }
        guard let role = try await jwtRole(tenant: tenant, mount: method.path, name: name) else {
            work.addDetails(["reason": "unknown_role"])
            throw CofferError(.loginFailed, "no role with this name accepts logins here")
        }
        work.describe(
            "auth.login", "auth_role", "\(method.path)/\(role.name)", ["method": method.kind.rawValue, "mount": method.path, "role": role.name])
        guard jwt.utf8.count <= 16_384 else {
            work.addDetails(["reason": "jwt_too_large"])
            throw CofferError(.jwtInvalid, "the JWT is larger than 16 KiB")
        }
        let grant: JWTRole.Grant
        do {
            let (claims, discovered) = try await verifier.verify(jwt, config: config, cacheKey: "\(tenant.id)|\(method.path)|\(method.accessor)")
            let issuer = config.boundIssuer.isEmpty ? (discovered ?? "") : config.boundIssuer
            grant = try role.grant(claims: claims, issuer: issuer, tenantName: tenant.name, now: clock.nowMillis)
        } catch let error as CofferError {
            work.addDetails(["reason": error.code.rawValue.lowercased()])
            throw error
        }
        return try await issue(tenant: tenant, method: method, role: role, grant: grant, in: work)
    }

    /// The session of a JWT or OIDC login: renewable only when its role does not come from the
    /// provider's groups (which only a new login re-reads).
    func issue(tenant: Tenant, method: AuthMethod, role: JWTRole, grant: JWTRole.Grant, in work: UnitOfWork) async throws -> Login {
        try await issue(
            tenant: tenant, settings: role.settings, role: grant.role,
            origin: LoginOrigin(mount: method.path, role: role.name, subject: grant.subject),
            displayName: "\(method.path)-\(grant.subject.prefix(64))", meta: grant.metadata, renewable: role.roleMap.isEmpty, in: work)
    }
}

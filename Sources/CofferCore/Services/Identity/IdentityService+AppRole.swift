extension IdentityService {
    /// Secret IDs: `cfs_` and 256 random bits in base62 (shown once, stored as a keyed hash).
    static let secretIDPrefix = LeakScanner.secretIDPrefix

    /// An AppRole role, or nil.
    func appRole(tenant: Tenant, mount: String, name: String) async throws -> AppRole? {
        guard AuthMethod.isValidName(name), let document = try await store.authEntry(tenantID: tenant.id, mount: mount, AuthEntryKey(.role, name))
        else { return nil }
        return try AppRole(name: name, document: document)
    }

    /// A role, or `NOT_FOUND`.
    public func appRole(tenant: Tenant, method: AuthMethod, name: String) async throws -> AppRole {
        guard let role = try await appRole(tenant: tenant, mount: method.path, name: name) else {
            throw CofferError(.notFound, "no role with this name")
        }
        return role
    }

    /// Role names of a method (AppRole or JWT), sorted.
    public func roleNames(tenant: Tenant, method: AuthMethod) async throws -> [String] {
        try await store.authEntryNames(tenantID: tenant.id, mount: method.path, kind: .role)
    }

    /// Creates or replaces a role. Its role ID is kept (or generated for a new role, or set by `roleID`);
    /// a role ID names one role only. A changed Coffer role revokes the role's sessions.
    public func writeAppRole(tenant: Tenant, method: AuthMethod, _ role: AppRole, in work: UnitOfWork) async throws {
        work.describe("auth.approle.role.write", "auth_role", "\(method.path)/\(role.name.prefix(128))")
        guard AuthMethod.isValidName(role.name) else {
            throw CofferError(.invalidRequest, "a role name is 1-128 letters, digits, '.', '_', '-' or '@', not starting with '.'")
        }
        guard role.settings.role != nil else { throw CofferError(.invalidRequest, "token_policies: a role needs one of Coffer's roles") }
        guard role.bindSecretID else {
            throw CofferError(.invalidRequest, "bind_secret_id: Coffer requires a secret ID for every AppRole login; nothing was changed")
        }
        let existing = try await appRole(tenant: tenant, mount: method.path, name: role.name)
        var role = role
        if role.roleID.isEmpty { role.roleID = existing?.roleID ?? AppRole.generateRoleID() }
        try await saveAppRole(tenant: tenant, method: method, role, replacing: existing, in: work)
    }

    /// Sets a role's role ID (`role/<name>/role-id`).
    public func setRoleID(tenant: Tenant, method: AuthMethod, name: String, roleID: String, in work: UnitOfWork) async throws {
        work.describe("auth.approle.role_id.write", "auth_role", "\(method.path)/\(name.prefix(128))")
        guard (1...256).contains(roleID.utf8.count), roleID.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
            throw CofferError(.invalidRequest, "role_id is 1-256 printable ASCII characters")
        }
        var role = try await appRole(tenant: tenant, method: method, name: name)
        let existing = role
        role.roleID = roleID
        try await saveAppRole(tenant: tenant, method: method, role, replacing: existing, in: work)
    }

    func saveAppRole(tenant: Tenant, method: AuthMethod, _ role: AppRole, replacing existing: AppRole?, in work: UnitOfWork) async throws {
        // The role ID's index entry, under its keyed hash: one role per role ID.
        let index = AuthEntryKey(.roleID, Base62.encode(try hasher.credentialHasher().hash(role.roleID), minLength: 43))
        if let owner = try await store.authEntry(tenantID: tenant.id, mount: method.path, index)?["role"]?.stringValue, owner != role.name {
            throw CofferError(.invalidRequest, "role_id is already used by another role; nothing was changed")
        }
        var delete: [AuthEntryKey] = []
        if let existing, existing.roleID != role.roleID {
            delete.append(AuthEntryKey(.roleID, Base62.encode(try hasher.credentialHasher().hash(existing.roleID), minLength: 43)))
        }
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path,
            put: [AuthEntryKey(.role, role.name): role.document, index: .object(["role": .string(role.name)])],
            delete: delete, dropSecretIDsOf: nil, in: work)
        if let existing, existing.settings.role != role.settings.role {
            _ = try await tokenStore.revokeSessions(
                tenantID: tenant.id, mount: method.path, role: role.name, subject: nil, at: clock.nowMillis, in: work)
        }
    }

    /// Deletes a role with its secret IDs and revokes its sessions; `NOT_FOUND` if there was none.
    public func deleteAppRole(tenant: Tenant, method: AuthMethod, name: String, in work: UnitOfWork) async throws {
        work.describe("auth.approle.role.delete", "auth_role", "\(method.path)/\(name.prefix(128))")
        let role = try await appRole(tenant: tenant, method: method, name: name)
        let index = AuthEntryKey(.roleID, Base62.encode(try hasher.credentialHasher().hash(role.roleID), minLength: 43))
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [:], delete: [AuthEntryKey(.role, name), index], dropSecretIDsOf: name, in: work)
        _ = try await tokenStore.revokeSessions(tenantID: tenant.id, mount: method.path, role: name, subject: nil, at: clock.nowMillis, in: work)
    }

    /// Issues a secret ID for a role. Its networks must lie within the role's `secret_id_bound_cidrs`
    /// when those are set. The returned string is the only copy.
    public func generateSecretID(
        tenant: Tenant, method: AuthMethod, roleName: String, cidrs: [String], tokenCIDRs: [String], metadata: [String: String],
        in work: UnitOfWork
    ) async throws -> (secretID: String, record: SecretIDRecord) {
        work.describe("auth.approle.secret_id.generate", "auth_role", "\(method.path)/\(roleName.prefix(128))")
        let role = try await appRole(tenant: tenant, method: method, name: roleName)
        guard cidrs.allSatisfy({ CIDR($0) != nil }), tokenCIDRs.allSatisfy({ CIDR($0) != nil }) else {
            throw CofferError(.invalidRequest, "cidr_list and token_bound_cidrs must list CIDR networks")
        }
        // A secret ID narrows its role's networks, never widens them (Vault's rule).
        for (asked, held, name) in [(cidrs, role.secretIDBoundCIDRs, "cidr_list"), (tokenCIDRs, role.settings.boundCIDRs, "token_bound_cidrs")]
        where !held.isEmpty && !asked.isEmpty {
            let networks = held.compactMap(CIDR.init)
            guard asked.allSatisfy({ text in CIDR(text).map { item in networks.contains { $0.covers(item) } } ?? false }) else {
                throw CofferError(
                    .invalidRequest, "\(name) must lie within the role's \(name == "cidr_list" ? "secret_id_bound_cidrs" : "token_bound_cidrs")")
            }
        }
        guard metadata.count <= 64, metadata.allSatisfy({ $0.key.utf8.count <= 512 && $0.value.utf8.count <= 512 }) else {
            throw CofferError(.invalidRequest, "metadata holds at most 64 entries of at most 512 bytes each")
        }
        let secretID = Self.secretIDPrefix + Base62.encode(SecureRandom.bytes(32), minLength: 43)
        let now = clock.nowMillis
        let record = SecretIDRecord(
            accessor: AccessToken.generateAccessor(), hash: try hasher.credentialHasher().hash(secretID), roleName: role.name,
            usesLeft: role.secretIDNumUses, expiresAt: role.secretIDTTLSeconds > 0 ? now + role.secretIDTTLSeconds * 1000 : nil,
            boundCIDRs: cidrs.isEmpty ? role.secretIDBoundCIDRs : cidrs, tokenBoundCIDRs: tokenCIDRs, metadata: metadata, createdAt: now)
        work.addDetails(["secret_id_accessor": record.accessor])
        try await store.insertSecretID(tenantID: tenant.id, mount: method.path, record, in: work)
        return (secretID, record)
    }

    /// The secret ID presented, if it belongs to `roleName`; nil otherwise.
    public func lookupSecretID(tenant: Tenant, method: AuthMethod, roleName: String, secretID: String) async throws -> SecretIDRecord? {
        _ = try await appRole(tenant: tenant, method: method, name: roleName)
        guard let record = try await store.secretID(tenantID: tenant.id, mount: method.path, hash: try hasher.credentialHasher().hash(secretID)),
            record.roleName == roleName
        else { return nil }
        return record
    }

    /// The secret ID with this accessor, if it belongs to `roleName`.
    public func lookupSecretID(tenant: Tenant, method: AuthMethod, roleName: String, accessor: String) async throws -> SecretIDRecord? {
        _ = try await appRole(tenant: tenant, method: method, name: roleName)
        guard AuthMethod.isValidName(accessor), let record = try await store.secretID(tenantID: tenant.id, mount: method.path, accessor: accessor),
            record.roleName == roleName
        else { return nil }
        return record
    }

    /// A role's secret-ID accessors.
    public func secretIDAccessors(tenant: Tenant, method: AuthMethod, roleName: String) async throws -> [String] {
        _ = try await appRole(tenant: tenant, method: method, name: roleName)
        return try await store.secretIDAccessors(tenantID: tenant.id, mount: method.path, role: roleName)
    }

    /// Destroys a secret ID (Vault answers 204 whether or not it existed).
    public func destroySecretID(tenant: Tenant, method: AuthMethod, record: SecretIDRecord?, in work: UnitOfWork) async throws {
        work.describe("auth.approle.secret_id.destroy", "auth_secret_id", record?.accessor ?? "")
        guard let record else {
            work.addDetails(["existed": "false"])
            return
        }
        _ = try await store.deleteSecretID(tenantID: tenant.id, mount: method.path, accessor: record.accessor, in: work)
    }

    /// Logs in with a role ID and a secret ID. Every refusal (unknown role ID, unknown, expired, used-up
    /// or foreign secret ID, a client outside its networks) answers `LOGIN_FAILED` alike; one use of the
    /// secret ID is spent atomically with the login.
    public func loginAppRole(
        tenant: Tenant, method: AuthMethod, roleID: String, secretID: String, clientIP: String?, in work: UnitOfWork
    )
        async throws -> Login
    {
        work.describe("auth.login", "auth_role", method.path, ["method": "approle", "mount": method.path])
        let failed = CofferError(.loginFailed, "invalid role ID or secret ID")
        let hasher = try hasher.credentialHasher()
        let index = AuthEntryKey(.roleID, Base62.encode(hasher.hash(roleID), minLength: 43))
        let secretHash = hasher.hash(secretID)
        guard roleID.utf8.count <= 256, secretID.utf8.count <= 256,
            let name = try await store.authEntry(tenantID: tenant.id, mount: method.path, index)?["role"]?.stringValue,
            let role = try await appRole(tenant: tenant, mount: method.path, name: name), let grant = role.settings.role
        else {
            work.addDetails(["reason": "unknown_role_id"])
            throw failed
        }
        work.describe("auth.login", "auth_role", "\(method.path)/\(role.name)", ["method": "approle", "mount": method.path, "role": role.name])
        guard let record = try await store.secretID(tenantID: tenant.id, mount: method.path, hash: secretHash),
            ConstantTime.equals(record.hash, secretHash), record.roleName == role.name
        else {
            work.addDetails(["reason": "unknown_secret_id"])
            throw failed
        }
        work.addDetails(["secret_id_accessor": record.accessor])
        guard record.admits(now: clock.nowMillis, clientIP: clientIP) else {
            work.addDetails(["reason": record.expiresAt.map { clock.nowMillis >= $0 } == true ? "secret_id_expired" : "client_not_allowed"])
            throw failed
        }
        guard try await store.spendSecretID(tenantID: tenant.id, mount: method.path, accessor: record.accessor, usesLeft: record.usesLeft)
        else {
            work.addDetails(["reason": "secret_id_used"])
            throw failed
        }
        var meta = record.metadata
        meta["role_name"] = role.name
        return try await issue(
            tenant: tenant, settings: role.settings, role: grant, origin: LoginOrigin(mount: method.path, role: role.name, subject: role.name),
            displayName: "\(method.path)-\(role.name)", meta: meta, extraCIDRs: record.tokenBoundCIDRs, in: work)
    }
}

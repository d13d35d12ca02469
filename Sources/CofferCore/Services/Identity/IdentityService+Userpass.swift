extension IdentityService {
    /// A user of the userpass method at `mount`, or nil.
    func userpassUser(tenant: Tenant, mount: String, name: String) async throws -> UserpassUser? {
        guard AuthMethod.isValidName(name), let document = try await store.authEntry(tenantID: tenant.id, mount: mount, AuthEntryKey(.user, name))
        else { return nil }
        return try UserpassUser(name: name, document: document)
    }

    /// A user, or `NOT_FOUND`.
    public func user(tenant: Tenant, method: AuthMethod, name: String) async throws -> UserpassUser {
        guard let user = try await userpassUser(tenant: tenant, mount: method.path, name: name) else {
            throw CofferError(.notFound, "no user with this name")
        }
        return user
    }

    /// The method's usernames, sorted.
    public func users(tenant: Tenant, method: AuthMethod) async throws -> [String] {
        try await store.authEntryNames(tenantID: tenant.id, mount: method.path, kind: .user)
    }

    /// Creates or updates a user. A new user needs a password; a changed password (or a changed role)
    /// revokes the user's sessions in the same unit of work. `password` nil keeps the current one.
    public func writeUser(
        tenant: Tenant, method: AuthMethod, name: String, password: String?, settings: LoginTokenSettings?, in work: UnitOfWork
    ) async throws {
        work.describe("auth.userpass.user.write", "auth_user", "\(method.path)/\(name.prefix(128))")
        guard AuthMethod.isValidName(name) else {
            throw CofferError(.invalidRequest, "a username is 1-128 letters, digits, '.', '_', '-' or '@', not starting with '.'")
        }
        let existing = try await userpassUser(tenant: tenant, mount: method.path, name: name)
        var user: UserpassUser
        if let existing {
            user = existing
        } else {
            guard password != nil else { throw CofferError(.invalidRequest, "password is required for a new user; nothing was changed") }
            user = UserpassUser(name: name, passwordHash: "", settings: LoginTokenSettings(role: .viewer), passwordChangedAt: 0)
        }
        if let settings {
            guard settings.role != nil else { throw CofferError(.invalidRequest, "token_policies: a user needs one of Coffer's roles") }
            user.settings = settings
        }
        if let password {
            try UserpassConfig(document: method.config).check(password: password)
            user.passwordHash = try PasswordHash.make(password)
            user.passwordChangedAt = clock.nowMillis
        }
        let revoke = existing != nil && (password != nil || existing?.settings.role != user.settings.role)
        work.addDetails(["created": existing == nil ? "true" : "false", "password_changed": password != nil ? "true" : "false"])
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [AuthEntryKey(.user, name): user.document], delete: [], dropSecretIDsOf: nil, in: work)
        if revoke {
            // Their sessions end with the change (the entry above already records it).
            let revoked = try await tokenStore.revokeSessions(
                tenantID: tenant.id, mount: method.path, role: nil, subject: name, at: clock.nowMillis, in: work)
            work.addDetails(["sessions_revoked": String(revoked.count)])
        }
        if password != nil {
            // An admin's password reset also lifts a lockout.
            _ = try await store.updateLockout(tenantID: tenant.id, mount: method.path, subject: "user:" + name) { _ in nil }
        }
    }

    /// Deletes a user and revokes their sessions; `NOT_FOUND` if there was none.
    public func deleteUser(tenant: Tenant, method: AuthMethod, name: String, in work: UnitOfWork) async throws {
        work.describe("auth.userpass.user.delete", "auth_user", "\(method.path)/\(name.prefix(128))")
        guard AuthMethod.isValidName(name),
            try await store.writeAuthEntries(
                tenantID: tenant.id, mount: method.path, put: [:], delete: [AuthEntryKey(.user, name)], dropSecretIDsOf: nil, in: work) == 1
        else { throw CofferError(.notFound, "no user with this name") }
        _ = try await tokenStore.revokeSessions(tenantID: tenant.id, mount: method.path, role: nil, subject: name, at: clock.nowMillis, in: work)
    }

    /// Logs a user in with a password. Locked users (and client addresses) are refused with
    /// `LOGIN_LOCKED` before any password work; an unknown user costs the same Argon2id work as a wrong
    /// password, and both answer `LOGIN_FAILED` after the progressive delay. The failure that reaches the
    /// lockout threshold also revokes the user's sessions.
    public func loginUserpass(
        tenant: Tenant, method: AuthMethod, username: String, password: String, clientIP: String?, in work: UnitOfWork
    ) async throws -> Login {
        let subject = String(username.prefix(128))
        work.describe("auth.login", "auth_user", "\(method.path)/\(subject)", ["method": "userpass", "mount": method.path, "user": subject])
        let config = try UserpassConfig(document: method.config)
        let now = clock.nowMillis
        let userKey = "user:" + subject
        let addressKey = "addr:" + (clientIP ?? "unknown")
        let userState = try await store.lockout(tenantID: tenant.id, mount: method.path, subject: userKey)
        for (policy, state) in [
            (config.userLockout, userState),
            (config.addressLockout, try await store.lockout(tenantID: tenant.id, mount: method.path, subject: addressKey)),
        ] {
            if let until = policy.lockedUntil(state, now: now) {
                work.addDetails(["reason": "locked"])
                let seconds = max(1, (until - now + 999) / 1000)
                throw CofferError(
                    .loginLocked, "too many failed logins; try again later",
                    rateLimit: RateLimitStatus(limit: policy.threshold, remaining: 0, resetSeconds: seconds, retryAfterSeconds: seconds))
            }
        }
        var user: UserpassUser?
        if AuthMethod.isValidName(username), password.utf8.count <= PasswordHash.maximumPasswordBytes {
            user = try await userpassUser(tenant: tenant, mount: method.path, name: username)
        }
        let matches: Bool
        if let user {
            matches = try PasswordHash.verify(password, against: user.passwordHash)
        } else {
            PasswordHash.burn(password)
            matches = false
        }
        guard let user, matches, let role = user.settings.role else {
            work.addDetails(["reason": user == nil ? "unknown_user" : "wrong_password"])
            try await recordFailure(tenant: tenant, method: method, config: config, userKey: userKey, addressKey: addressKey, in: work)
            throw CofferError(.loginFailed, "invalid username or password")
        }
        if userState != nil {
            _ = try await store.updateLockout(tenantID: tenant.id, mount: method.path, subject: userKey) { _ in nil }
        }
        return try await issue(
            tenant: tenant, settings: user.settings, role: role, origin: LoginOrigin(mount: method.path, role: nil, subject: user.name),
            displayName: "\(method.path)-\(user.name)", meta: ["username": user.name], in: work)
    }

    /// Counts a failed login for the user and the client address, revokes the user's sessions when that
    /// locks them, then waits the progressive delay.
    func recordFailure(
        tenant: Tenant, method: AuthMethod, config: UserpassConfig, userKey: String, addressKey: String, in work: UnitOfWork
    ) async throws {
        let now = clock.nowMillis
        let userPolicy = config.userLockout
        let before = try await store.updateLockout(tenantID: tenant.id, mount: method.path, subject: userKey) {
            userPolicy.recordingFailure($0, now: now)
        }
        let after = userPolicy.recordingFailure(before, now: now)
        let addressPolicy = config.addressLockout
        let addressBefore = try await store.updateLockout(tenantID: tenant.id, mount: method.path, subject: addressKey) {
            addressPolicy.recordingFailure($0, now: now)
        }
        let addressAfter = addressPolicy.recordingFailure(addressBefore, now: now)
        work.addDetails(["failures": String(after.failures)])
        if addressPolicy.becameLocked(from: addressBefore, to: addressAfter, now: now) { work.addDetails(["address_locked": "true"]) }
        if userPolicy.becameLocked(from: before, to: after, now: now) {
            work.addDetails(["user_locked": "true"])
            let name = String(userKey.dropFirst("user:".count))
            let revoked = try await tokenStore.revokeSessions(tenantID: tenant.id, mount: method.path, role: nil, subject: name, at: now, in: work)
            work.addDetails(["sessions_revoked": String(revoked.count)])
        }
        await pause(LockoutPolicy.delayMillis(failures: max(after.failures, addressAfter.failures)))
    }
}

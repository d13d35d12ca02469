import CofferCore
import CofferStore
import Testing

/// Identity storage on every engine: methods per tenant, entries written and deleted together, secret
/// IDs spent exactly once under concurrency, lockout counters that lose no failure, and sessions
/// revoked by origin — never across tenants.
@Suite("Identity store conformance")
struct IdentityConformanceTests {
    static func session(_ accessor: String, tenant: String, mount: String, role: String?, subject: String, hash: UInt8) -> TokenRecord {
        var record = TokenRecord(
            accessor: accessor, tenantID: tenant, hash: [UInt8](repeating: hash, count: 32), role: .viewer, displayName: "s", createdAt: 1,
            expiresAt: nil, parentAccessor: nil, ttlSeconds: 0)
        record.origin = LoginOrigin(mount: mount, role: role, subject: subject)
        return record
    }

    @Test(arguments: StorageEngine.available)
    func methodsAndEntriesAreKeptPerTenantAndDisablingRevokesSessions(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (a, keyA) = StorageConformanceTests.tenant("ida")
            let (b, keyB) = StorageConformanceTests.tenant("idb")
            try await storage.tenants.createTenant(a, firstKey: keyA)
            try await storage.tenants.createTenant(b, firstKey: keyB)
            let identity = storage.identity
            let method = AuthMethod(path: "userpass", kind: .userpass, accessor: "auth_userpass_1", createdAt: 5)
            #expect(try await identity.insertAuthMethod(tenantID: a.id, method, in: .unaudited()))
            #expect(try await !identity.insertAuthMethod(tenantID: a.id, method, in: .unaudited()), "a path is taken once")
            #expect(try await identity.insertAuthMethod(tenantID: b.id, method, in: .unaudited()), "per tenant")
            var changed = method
            changed.config = ["password_min_length": 20]
            changed.description = "people"
            try await identity.saveAuthMethod(tenantID: a.id, changed, in: .unaudited())
            #expect(try await identity.authMethod(tenantID: a.id, path: "userpass") == changed)
            #expect(try await identity.authMethod(tenantID: b.id, path: "userpass") == method)

            let alice = AuthEntryKey(.user, "alice")
            let count = try await identity.writeAuthEntries(
                tenantID: a.id, mount: "userpass", put: [alice: ["x": 1], AuthEntryKey(.user, "bob"): ["x": 2]], delete: [], dropSecretIDsOf: nil,
                in: .unaudited())
            #expect(count == 0)
            #expect(try await identity.authEntry(tenantID: a.id, mount: "userpass", alice) == ["x": 1])
            #expect(try await identity.authEntry(tenantID: b.id, mount: "userpass", alice) == nil, "never across tenants")
            #expect(try await identity.authEntryNames(tenantID: a.id, mount: "userpass", kind: .user) == ["alice", "bob"])
            #expect(try await identity.authEntryNames(tenantID: a.id, mount: "userpass", kind: .role) == [])
            let deleted = try await identity.writeAuthEntries(
                tenantID: a.id, mount: "userpass", put: [alice: ["x": 3]], delete: [AuthEntryKey(.user, "bob"), AuthEntryKey(.user, "ghost")],
                dropSecretIDsOf: nil, in: .unaudited())
            #expect(deleted == 1)
            #expect(try await identity.authEntryNames(tenantID: a.id, mount: "userpass", kind: .user) == ["alice"])

            // Sessions by origin: a user's, a role's, the whole method's; B's sessions are untouched.
            try await storage.tokens.insertToken(Self.session("s1", tenant: a.id, mount: "userpass", role: nil, subject: "alice", hash: 1))
            try await storage.tokens.insertToken(Self.session("s2", tenant: a.id, mount: "userpass", role: nil, subject: "bob", hash: 2))
            try await storage.tokens.insertToken(Self.session("s3", tenant: a.id, mount: "userpass", role: nil, subject: "alice", hash: 3))
            try await storage.tokens.insertToken(Self.session("s4", tenant: b.id, mount: "userpass", role: nil, subject: "alice", hash: 4))
            try await storage.tokens.insertToken(Self.session("s5", tenant: a.id, mount: "approle", role: "ci", subject: "ci", hash: 5))
            #expect(
                try await storage.tokens.token(accessor: "s1", tenantID: a.id)?.origin == LoginOrigin(mount: "userpass", role: nil, subject: "alice"))
            let byUser = try await storage.tokens.revokeSessions(
                tenantID: a.id, mount: "userpass", role: nil, subject: "alice", at: 10, in: .unaudited())
            #expect(byUser.sorted() == ["s1", "s3"])
            let byRole = try await storage.tokens.revokeSessions(tenantID: a.id, mount: "approle", role: "ci", subject: nil, at: 10, in: .unaudited())
            #expect(byRole == ["s5"])
            let revoked = try await identity.deleteAuthMethod(tenantID: a.id, path: "userpass", at: 11, in: .unaudited())
            #expect(revoked == ["s2"])
            #expect(try await identity.deleteAuthMethod(tenantID: a.id, path: "userpass", at: 12, in: .unaudited()) == nil)
            #expect(try await identity.authEntry(tenantID: a.id, mount: "userpass", alice) == nil, "entries go with the method")
            #expect(try await storage.tokens.token(accessor: "s4", tenantID: b.id)?.revokedAt == nil, "another tenant's session stays")
            #expect(try await identity.authMethod(tenantID: b.id, path: "userpass") != nil)
        }
    }

    @Test(arguments: StorageEngine.available)
    func secretIDsAreSpentExactlyOnceAndLockoutsLoseNoFailure(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("sid")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let identity = storage.identity
            let record = SecretIDRecord(
                accessor: "acc1", hash: [UInt8](repeating: 9, count: 32), roleName: "ci", usesLeft: 1, expiresAt: 99, boundCIDRs: ["10.0.0.0/8"],
                tokenBoundCIDRs: [], metadata: ["team": "p"], createdAt: 1)
            try await identity.insertSecretID(tenantID: tenant.id, mount: "approle", record, in: .unaudited())
            #expect(try await identity.secretID(tenantID: tenant.id, mount: "approle", hash: record.hash) == record)
            #expect(try await identity.secretID(tenantID: "other", mount: "approle", hash: record.hash) == nil)
            #expect(try await identity.secretIDAccessors(tenantID: tenant.id, mount: "approle", role: "ci") == ["acc1"])
            // Eight logins race for the last use: exactly one wins, and the secret ID is gone.
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await identity.spendSecretID(tenantID: tenant.id, mount: "approle", accessor: "acc1", usesLeft: 1) }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
            #expect(try await identity.secretID(tenantID: tenant.id, mount: "approle", accessor: "acc1") == nil)

            var many = record
            many.accessor = "acc2"
            many.hash = [UInt8](repeating: 8, count: 32)
            many.usesLeft = 3
            try await identity.insertSecretID(tenantID: tenant.id, mount: "approle", many, in: .unaudited())
            #expect(try await identity.spendSecretID(tenantID: tenant.id, mount: "approle", accessor: "acc2", usesLeft: 3))
            #expect(try await !identity.spendSecretID(tenantID: tenant.id, mount: "approle", accessor: "acc2", usesLeft: 3), "stale count")
            #expect(try await identity.secretID(tenantID: tenant.id, mount: "approle", accessor: "acc2")?.usesLeft == 2)
            // Deleting the role's entries with its secret IDs.
            _ = try await identity.writeAuthEntries(
                tenantID: tenant.id, mount: "approle", put: [:], delete: [AuthEntryKey(.role, "ci")], dropSecretIDsOf: "ci", in: .unaudited())
            #expect(try await identity.secretIDAccessors(tenantID: tenant.id, mount: "approle", role: "ci") == [])

            // Twenty concurrent failures are all counted; the policy locks at five.
            let policy = LockoutPolicy(threshold: 5, durationMillis: 1_000, counterResetMillis: 60_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        _ = try await identity.updateLockout(tenantID: tenant.id, mount: "userpass", subject: "user:alice") {
                            LockoutState(failures: ($0?.failures ?? 0) + 1, windowStart: 100)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await identity.lockout(tenantID: tenant.id, mount: "userpass", subject: "user:alice")?.failures == 20)
            let before = try await identity.updateLockout(tenantID: tenant.id, mount: "userpass", subject: "user:alice") { _ in nil }
            #expect(before?.failures == 20)
            #expect(try await identity.lockout(tenantID: tenant.id, mount: "userpass", subject: "user:alice") == nil)
            _ = try await identity.updateLockout(tenantID: tenant.id, mount: "userpass", subject: "user:bob") { policy.recordingFailure($0, now: 5) }
            #expect(
                try await identity.lockout(tenantID: tenant.id, mount: "userpass", subject: "user:bob") == LockoutState(failures: 1, windowStart: 5))
        }
    }
}

import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// One conformance suite for every storage engine.
@Suite("Storage conformance")
struct StorageConformanceTests {
    static func withStorage(_ engine: StorageEngine, _ body: (SQLStorage, String) async throws -> Void) async throws {
        let store = try await engine.makeStorage()
        do {
            try await body(store.storage, store.url)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    static func tenant(_ name: String) -> (Tenant, WrappedDataKey) {
        let id = "id-" + name
        return (
            Tenant(id: id, name: name, environment: .staging, activeKeyVersion: 1, isSystem: false, createdAt: 1),
            WrappedDataKey(tenantID: id, version: 1, rootVersion: 1, wrapped: [1, 2, 3], createdAt: 1)
        )
    }

    static func write(
        _ store: SQLStorage, _ tenant: String, _ path: String, cas: Int? = nil, value: UInt8 = 0, max: Int = 10,
        in work: UnitOfWork = .unaudited()
    ) async throws -> SecretVersion {
        let write = SecretWrite(cas: cas, defaultMaxVersions: max, keyVersion: 1, references: [:]) { version throws(CofferError) in
            [value, UInt8(version)]
        }
        return try await store.secrets.write(tenantID: tenant, mount: "secret", path: path, write, at: 1000, in: work).1
    }

    @Test(arguments: StorageEngine.available)
    func migrationsAreIdempotent(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, url in
            #expect(try await Migrations.migrate(storage.owner).isEmpty)
            let again = try await SQLStorage.open(url: url)
            try await again.shutdown()
        }
    }

    /// Gateway projects: one document per (tenant, name), replaced in place, listed sorted, never visible
    /// to another tenant.
    @Test(arguments: StorageEngine.available)
    func gatewayProjectsAreStoredPerTenant(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (a, keyA) = Self.tenant("gw-a")
            let (b, keyB) = Self.tenant("gw-b")
            try await storage.tenants.createTenant(a, firstKey: keyA)
            try await storage.tenants.createTenant(b, firstKey: keyB)
            let gateway = storage.gateway
            #expect(try await gateway.putProject(tenantID: a.id, name: "weather", document: #"{"v":1}"#, at: 1, in: .unaudited()) == false)
            #expect(try await gateway.putProject(tenantID: a.id, name: "weather", document: #"{"v":2}"#, at: 2, in: .unaudited()) == true)
            try await gateway.putProject(tenantID: a.id, name: "alpha", document: "{}", at: 3, in: .unaudited())
            #expect(try await gateway.project(tenantID: a.id, name: "weather") == #"{"v":2}"#)
            #expect(try await gateway.projectNames(tenantID: a.id) == ["alpha", "weather"])
            #expect(try await gateway.project(tenantID: b.id, name: "weather") == nil)
            #expect(try await gateway.projectNames(tenantID: b.id).isEmpty)
            #expect(try await gateway.deleteProject(tenantID: b.id, name: "weather", in: .unaudited()) == false)
            #expect(try await gateway.deleteProject(tenantID: a.id, name: "weather", in: .unaudited()) == true)
            #expect(try await gateway.project(tenantID: a.id, name: "weather") == nil)

            // Nonces: accepted once per (tenant, scope) until they expire; swept afterwards.
            func remember(_ tenant: String, _ scope: String, _ nonce: String, expires: Int64, now: Int64) async throws -> Bool {
                try await gateway.rememberNonces([NonceCommitter.Item(tenantID: tenant, scope: scope, nonce: nonce, expiresAt: expires)], now: now)
                    == [true]
            }
            #expect(try await remember(a.id, "weather", "n1", expires: 130, now: 100))
            #expect(try await !remember(a.id, "weather", "n1", expires: 130, now: 120))
            #expect(try await remember(a.id, "other", "n1", expires: 130, now: 120))
            #expect(try await remember(b.id, "weather", "n1", expires: 130, now: 120))
            #expect(
                try await remember(a.id, "weather", "n1", expires: 200, now: 131),
                "an expired nonce is forgotten")
            #expect(try await gateway.sweepNonces(now: 150) == 2)
            #expect(try await !remember(a.id, "weather", "n1", expires: 200, now: 150))

            // In batches (group commit): a nonce seen before, or twice in one batch, is refused; an expired one is new again.
            func item(_ nonce: String, _ tenant: String = a.id, expires: Int64 = 400) -> NonceCommitter.Item {
                NonceCommitter.Item(tenantID: tenant, scope: "batch", nonce: nonce, expiresAt: expires)
            }
            #expect(try await gateway.rememberNonces([item("b1"), item("b2"), item("b1"), item("b1", b.id)], now: 300) == [true, true, false, true])
            #expect(try await gateway.rememberNonces([item("b2"), item("b3")], now: 350) == [false, true])
            #expect(try await gateway.rememberNonces([item("b2", expires: 900)], now: 401) == [true], "expired, so new again")

            // Suspensions: one per (tenant, project, client), replaced when renewed, lifted once.
            try await gateway.suspend(tenantID: a.id, project: "weather", client: "key_1", until: 500, reason: "r1", at: 100, in: .unaudited())
            try await gateway.suspend(tenantID: a.id, project: "weather", client: "key_1", until: 900, reason: "r2", at: 200, in: .unaudited())
            #expect(try await gateway.suspension(tenantID: a.id, project: "weather", client: "key_1")?.until == 900)
            #expect(try await gateway.suspension(tenantID: b.id, project: "weather", client: "key_1") == nil)
            #expect(try await gateway.suspensions(tenantID: a.id, project: "weather").map(\.reason) == ["r2"])
            #expect(try await gateway.liftSuspension(tenantID: a.id, project: "weather", client: "key_1", in: .unaudited()))
            #expect(try await !gateway.liftSuspension(tenantID: a.id, project: "weather", client: "key_1", in: .unaudited()))
        }
    }

    /// Gateway assets: one per (tenant, project, name), replaced in place keeping their creation time,
    /// listed without content, re-sealed only if unchanged since read, deleted with their project.
    @Test(arguments: StorageEngine.available)
    func gatewayAssetsAreStoredPerTenantAndProject(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (a, keyA) = Self.tenant("as-a")
            let (b, keyB) = Self.tenant("as-b")
            try await storage.tenants.createTenant(a, firstKey: keyA)
            try await storage.tenants.createTenant(b, firstKey: keyB)
            let gateway = storage.gateway
            try await gateway.putProject(tenantID: a.id, name: "web", document: "{}", at: 1, in: .unaudited())
            func asset(_ name: String, at time: Int64) -> GatewayAsset {
                GatewayAsset(
                    name: name, contentType: "text/css; charset=utf-8", requireToken: time > 5, sha256: [UInt8(time)], size: 3, createdAt: time,
                    updatedAt: time)
            }
            let v1: [UInt8] = [1, 0, 0, 0, 1] + [UInt8](repeating: 1, count: 40)
            let v2: [UInt8] = [1, 0, 0, 0, 2] + [UInt8](repeating: 2, count: 40)
            #expect(try await gateway.putAsset(tenantID: a.id, project: "web", asset("b.css", at: 2), sealed: v1, in: .unaudited()) == false)
            #expect(try await gateway.putAsset(tenantID: a.id, project: "web", asset("a.css", at: 3), sealed: v1, in: .unaudited()) == false)
            #expect(try await gateway.putAsset(tenantID: a.id, project: "web", asset("b.css", at: 9), sealed: v1, in: .unaudited()) == true)
            let stored = try #require(try await gateway.asset(tenantID: a.id, project: "web", name: "b.css"))
            #expect(stored.0.createdAt == 2 && stored.0.updatedAt == 9 && stored.0.requireToken && stored.0.sha256 == [9] && stored.sealed == v1)
            #expect(try await gateway.assets(tenantID: a.id, project: "web").map(\.name) == ["a.css", "b.css"])
            #expect(try await gateway.asset(tenantID: b.id, project: "web", name: "b.css") == nil)
            #expect(try await gateway.asset(tenantID: a.id, project: "other", name: "b.css") == nil)
            #expect(try await gateway.deleteAsset(tenantID: b.id, project: "web", name: "b.css", in: .unaudited()) == false)

            // Re-sealing: listed by key version; a stale expectation changes nothing.
            #expect(try await gateway.assetsSealedBefore(tenantID: a.id, keyVersion: 2, limit: 10).map(\.name) == ["a.css", "b.css"])
            #expect(try await gateway.assetsSealedBefore(tenantID: a.id, keyVersion: 2, limit: 1).count == 1)
            #expect(try await !gateway.resealAsset(tenantID: a.id, project: "web", name: "a.css", expected: v2, sealed: v2, in: .unaudited()))
            #expect(try await gateway.resealAsset(tenantID: a.id, project: "web", name: "a.css", expected: v1, sealed: v2, in: .unaudited()))
            #expect(try await gateway.assetsSealedBefore(tenantID: a.id, keyVersion: 2, limit: 10).map(\.name) == ["b.css"])
            #expect(try await gateway.assetsSealedBefore(tenantID: b.id, keyVersion: 9, limit: 10).isEmpty)

            // Managed keys: inserted once, replaced only over the expected key, deleted with the project.
            let k1 = ManagedKeyRecord(keyID: "key_1", sealed: v1, rotatesAt: 100)
            let k2 = ManagedKeyRecord(keyID: "key_2", sealed: v2, rotatesAt: 200)
            #expect(try await gateway.putManagedKey(tenantID: a.id, project: "web", k1, replacing: nil, in: .unaudited()))
            #expect(try await !gateway.putManagedKey(tenantID: a.id, project: "web", k2, replacing: nil, in: .unaudited()), "a racing insert loses")
            #expect(
                try await !gateway.putManagedKey(tenantID: a.id, project: "web", k2, replacing: "key_9", in: .unaudited()), "a stale replace loses")
            #expect(try await gateway.putManagedKey(tenantID: a.id, project: "web", k2, replacing: "key_1", in: .unaudited()))
            #expect(try await gateway.managedKey(tenantID: a.id, project: "web") == k2)
            #expect(try await gateway.managedKey(tenantID: b.id, project: "web") == nil)

            #expect(try await gateway.deleteAsset(tenantID: a.id, project: "web", name: "a.css", in: .unaudited()))
            #expect(try await gateway.deleteProject(tenantID: a.id, name: "web", in: .unaudited()))
            #expect(try await gateway.asset(tenantID: a.id, project: "web", name: "b.css") == nil, "deleted with its project")
            #expect(try await gateway.managedKey(tenantID: a.id, project: "web") == nil)
        }
    }

    /// A database a newer Coffer migrated is refused, not used with a schema this one does not know.
    @Test(arguments: StorageEngine.available)
    func aNewerSchemaIsRefused(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            try await storage.owner.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [.int(9_999), .int(1)])
            await expectError(.storageCorrupt) { _ = try await Migrations.migrate(storage.owner) }
        }
    }

    @Test(arguments: StorageEngine.available)
    func tenantsAreUniqueByName(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("acme")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            #expect(try await storage.tenants.tenant(named: "acme") == tenant)
            #expect(try await storage.tenants.tenant(id: tenant.id)?.environment == .staging)
            var duplicate = tenant
            duplicate.id = "other-id"
            let error = await #expect(throws: CofferError.self) {
                try await storage.tenants.createTenant(
                    duplicate, firstKey: WrappedDataKey(tenantID: "other-id", version: 1, rootVersion: 1, wrapped: [], createdAt: 1))
            }
            #expect(error?.code == .tenantExists)
            #expect(try await storage.tenants.tenant(id: "other-id") == nil, "a failed create leaves nothing behind")
            #expect(try await storage.tenants.listTenants().map(\.name) == ["acme"])
        }
    }

    @Test(arguments: StorageEngine.available)
    func keyringRecordsAndDataKeys(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            #expect(try await storage.keyring.rootKeyRecords().isEmpty)
            try await storage.keyring.installRootKey(
                RootKeyRecord(version: 1, check: [9, 9], kdfJSON: "{\"a\":1}", active: true, createdAt: 5), systemKeys: ["h": [1, 2]])
            let records = try await storage.keyring.rootKeyRecords()
            #expect(records.count == 1 && records[0].active && records[0].kdfJSON == "{\"a\":1}" && records[0].check == [9, 9])
            #expect(try await storage.keyring.systemKey(named: "h")?.wrapped == [1, 2])
            #expect(try await storage.keyring.systemKey(named: "missing") == nil)

            let (tenant, key) = Self.tenant("keys")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            try await storage.keyring.addDataKey(WrappedDataKey(tenantID: tenant.id, version: 2, rootVersion: 1, wrapped: [4], createdAt: 6))
            #expect(try await storage.keyring.dataKeys(tenantID: tenant.id).map(\.version) == [1, 2])
            #expect(try await storage.tenants.tenant(id: tenant.id)?.activeKeyVersion == 2)
            try await storage.keyring.setActiveDataKey(tenantID: tenant.id, version: 1)
            #expect(try await storage.tenants.tenant(id: tenant.id)?.activeKeyVersion == 1)
        }
    }

    @Test(arguments: StorageEngine.available)
    func tokensLookupAndRevoke(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("tok")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let record = TokenRecord(
                accessor: "acc1", tenantID: tenant.id, hash: [1, 2, 3, 4], role: .modifier, displayName: "ci", createdAt: 10, expiresAt: 99,
                parentAccessor: nil, ttlSeconds: 60)
            try await storage.tokens.insertToken(record)
            #expect(try await storage.tokens.token(hash: [1, 2, 3, 4]) == record)
            #expect(try await storage.tokens.token(hash: [1, 2, 3, 5]) == nil)
            #expect(try await storage.tokens.token(accessor: "acc1", tenantID: "someone-else") == nil)
            #expect(try await storage.tokens.revokeToken(accessor: "acc1", tenantID: "someone-else", at: 20).isEmpty)
            #expect(try await storage.tokens.revokeToken(accessor: "acc1", tenantID: tenant.id, at: 20) == ["acc1"])
            #expect(try await storage.tokens.revokeToken(accessor: "acc1", tenantID: tenant.id, at: 21).isEmpty)
            #expect(try await storage.tokens.token(hash: [1, 2, 3, 4])?.revokedAt == 20)
        }
    }

    /// Every lifecycle field survives the round trip; uses are spent atomically, the last one revokes;
    /// revoke-orphan leaves the children live and parentless; token roles are kept per tenant.
    @Test(arguments: StorageEngine.available)
    func tokenLifecycleFieldsUsesOrphansAndRoles(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("life")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            var parent = TokenRecord(
                accessor: "p", tenantID: tenant.id, hash: [9, 9], role: .admin, displayName: "p", createdAt: 10, expiresAt: nil,
                parentAccessor: nil, ttlSeconds: 0)
            parent.usesLeft = 2
            parent.periodSeconds = 60
            parent.meta = ["team": "payments", "ü": "\"quoted\""]
            parent.boundCIDRs = ["10.0.0.0/8", "2001:db8::/32"]
            parent.scopes = [Scope("kv:read:app/*"), Scope("transit:encrypt:orders")].compactMap { $0 }
            parent.roleName = "ci"
            try await storage.tokens.insertToken(parent)
            #expect(try await storage.tokens.token(accessor: "p", tenantID: tenant.id) == parent)
            let child = TokenRecord(
                accessor: "c", tenantID: tenant.id, hash: [8, 8], role: .viewer, displayName: "c", createdAt: 11, expiresAt: nil,
                parentAccessor: "p", ttlSeconds: 0)
            try await storage.tokens.insertToken(child)

            #expect(try await storage.tokens.consumeTokenUse(accessor: "p", tenantID: "someone-else", at: 12) == nil)
            #expect(try await storage.tokens.consumeTokenUse(accessor: "p", tenantID: tenant.id, at: 12) == 1)
            #expect(try await storage.tokens.consumeTokenUse(accessor: "p", tenantID: tenant.id, at: 13) == 0)
            #expect(try await storage.tokens.token(accessor: "p", tenantID: tenant.id)?.revokedAt == 13, "the last use revokes")
            #expect(try await storage.tokens.consumeTokenUse(accessor: "p", tenantID: tenant.id, at: 14) == nil)
            #expect(
                try await storage.tokens.consumeTokenUse(accessor: "c", tenantID: tenant.id, at: 14) == nil, "unlimited tokens have none to spend")

            let grand = TokenRecord(
                accessor: "g", tenantID: tenant.id, hash: [7, 7], role: .viewer, displayName: "g", createdAt: 12, expiresAt: nil,
                parentAccessor: "c", ttlSeconds: 0)
            try await storage.tokens.insertToken(grand)
            #expect(try await storage.tokens.revokeTokenOrphaningChildren(accessor: "c", tenantID: tenant.id, at: 20, in: .unaudited()) == ["c"])
            let orphaned = try await storage.tokens.token(accessor: "g", tenantID: tenant.id)
            #expect(orphaned?.revokedAt == nil && orphaned?.parentAccessor == nil)

            try await storage.tokens.putTokenRole(tenantID: tenant.id, name: "ci", document: ["a": 1], in: .unaudited())
            try await storage.tokens.putTokenRole(tenantID: tenant.id, name: "ci", document: ["a": 2], in: .unaudited())
            try await storage.tokens.putTokenRole(tenantID: tenant.id, name: "build", document: ["b": true], in: .unaudited())
            #expect(try await storage.tokens.tokenRole(tenantID: tenant.id, name: "ci") == ["a": 2])
            #expect(try await storage.tokens.tokenRole(tenantID: "someone-else", name: "ci") == nil)
            #expect(try await storage.tokens.tokenRoleNames(tenantID: tenant.id) == ["build", "ci"])
            #expect(try await storage.tokens.deleteTokenRole(tenantID: tenant.id, name: "ci", in: .unaudited()))
            #expect(try await !storage.tokens.deleteTokenRole(tenantID: tenant.id, name: "ci", in: .unaudited()))
        }
    }

    @Test(arguments: StorageEngine.available)
    func versionsCASAndPruning(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("kv")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            #expect(try await Self.write(storage, tenant.id, "a/b", cas: 0).version == 1)
            let mismatch = await #expect(throws: CofferError.self) { _ = try await Self.write(storage, tenant.id, "a/b", cas: 0) }
            #expect(mismatch?.code == .casMismatch)
            #expect(try await Self.write(storage, tenant.id, "a/b", cas: 1).version == 2)
            for _ in 0..<4 { _ = try await Self.write(storage, tenant.id, "a/b", max: 3) }
            let versions = try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "a/b")
            #expect(versions.map(\.version) == [4, 5, 6])
            #expect(versions.last?.blob == [0, 6])
            let metadata = try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "a/b")
            #expect(metadata?.currentVersion == 6 && metadata?.oldestVersion == 4)

            _ = try await storage.secrets.updateMetadata(
                tenantID: tenant.id, mount: "secret", path: "a/b", SecretMetadataUpdate(casRequired: true, customMetadata: ["owner": "ops"]), at: 2000
            )
            let required = await #expect(throws: CofferError.self) { _ = try await Self.write(storage, tenant.id, "a/b") }
            #expect(required?.code == .casRequired)
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "a/b")?.customMetadata == ["owner": "ops"])
            #expect(try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "a/b").count == 3, "failed writes store nothing")
        }
    }

    @Test(arguments: StorageEngine.available)
    func deleteUndeleteDestroyAndList(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("life")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            for path in ["app/db", "app/api", "app/nested/x", "apple", "other"] { _ = try await Self.write(storage, tenant.id, path) }
            _ = try await Self.write(storage, tenant.id, "app/db")
            #expect(try await storage.secrets.paths(tenantID: tenant.id, mount: "secret", prefix: "app/") == ["app/api", "app/db", "app/nested/x"])
            #expect(try await storage.secrets.paths(tenantID: tenant.id, mount: "secret", prefix: "").count == 5)
            #expect(try await storage.secrets.paths(tenantID: "nobody", mount: "secret", prefix: "").isEmpty)

            #expect(
                try await storage.secrets.setDeletion(tenantID: tenant.id, mount: "secret", path: "app/db", versions: [1, 2], deletedAt: 50) == 2)
            #expect(try await storage.secrets.setDeletion(tenantID: tenant.id, mount: "secret", path: "app/db", versions: [2], deletedAt: 60) == 0)
            #expect(try await storage.secrets.setDeletion(tenantID: tenant.id, mount: "secret", path: "app/db", versions: [2], deletedAt: nil) == 1)
            #expect(try await storage.secrets.destroy(tenantID: tenant.id, mount: "secret", path: "app/db", versions: [1]) == 1)
            #expect(try await storage.secrets.setDeletion(tenantID: tenant.id, mount: "secret", path: "app/db", versions: [1], deletedAt: nil) == 0)
            let versions = try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "app/db")
            #expect(versions[0].destroyed && versions[0].blob == nil)
            #expect(versions[1].deletedAt == nil && versions[1].blob != nil)

            #expect(try await storage.secrets.deleteAll(tenantID: tenant.id, mount: "secret", path: "app/db"))
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "app/db") == nil)
            #expect(try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "app/db").isEmpty)
            #expect(try await storage.secrets.deleteAll(tenantID: tenant.id, mount: "secret", path: "app/db") == false)
        }
    }

    @Test(arguments: StorageEngine.available)
    func reencryptionQueries(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("re")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            for index in 0..<5 { _ = try await Self.write(storage, tenant.id, "p\(index)") }
            #expect(try await storage.secrets.countVersions(tenantID: tenant.id, keyVersion: 1) == 5)
            let batch = try await storage.secrets.versionsBelow(tenantID: tenant.id, keyVersion: 2, limit: 3)
            #expect(batch.count == 3)
            let first = try #require(batch.first)
            #expect(
                try await storage.secrets.replaceBlob(
                    tenantID: tenant.id, mount: first.mount, path: first.path, version: first.version.version, expectedKeyVersion: 1, blob: [7],
                    keyVersion: 2))
            #expect(
                try await storage.secrets.replaceBlob(
                    tenantID: tenant.id, mount: first.mount, path: first.path, version: first.version.version, expectedKeyVersion: 1, blob: [8],
                    keyVersion: 2) == false, "a concurrent re-encryption does not overwrite")
            #expect(try await storage.secrets.countVersions(tenantID: tenant.id, keyVersion: 2) == 1)
            #expect(try await storage.secrets.versionsBelow(tenantID: tenant.id, keyVersion: 2, limit: 10).count == 4)
        }
    }

    /// Concurrent writers to one path get distinct, consecutive versions (row locks on PostgreSQL, exclusive writers on SQLite).
    @Test(arguments: StorageEngine.available)
    func concurrentWritesGetDistinctVersions(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("race")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            // No write before: the writers also race to create the path.
            let versions = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await Self.write(storage, tenant.id, "hot", max: 100).version } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(versions.sorted() == Array(1...20))
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "hot")?.currentVersion == 20)
        }
    }

    @Test(arguments: StorageEngine.available)
    func sqlIsParameterised(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            let (tenant, key) = Self.tenant("inj")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let hostile = "x'; DROP TABLE kv_metadata; --"
            _ = try await Self.write(storage, tenant.id, hostile)
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: hostile)?.path == hostile)
            #expect(try await storage.secrets.paths(tenantID: tenant.id, mount: "secret", prefix: "x'").count == 1)
        }
    }
}

extension StorageConformanceTests {
    @Test(arguments: StorageEngine.available)
    func rootRotationIsAtomicAndGuardsDataKeys(engine: StorageEngine) async throws {
        try await Self.withStorage(engine) { storage, _ in
            try await storage.keyring.installRootKey(
                RootKeyRecord(version: 1, check: [1], kdfJSON: nil, active: true, createdAt: 1), systemKeys: ["h": [1]])
            let (tenant, key) = Self.tenant("rot")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let rewrapped = WrappedDataKey(tenantID: tenant.id, version: 1, rootVersion: 2, wrapped: [42], createdAt: 1)
            try await storage.keyring.rotateRootKey(
                RootKeyRecord(version: 2, check: [2], kdfJSON: nil, active: true, createdAt: 2), systemKeys: ["h": [2]], dataKeys: [rewrapped])
            #expect(try await storage.keyring.rootKeyRecords().filter(\.active).map(\.version) == [2])
            #expect(try await storage.keyring.systemKey(named: "h")?.rootVersion == 2)
            #expect(try await storage.keyring.allDataKeys() == [rewrapped])
            let stale = await #expect(throws: CofferError.self) {
                try await storage.keyring.addDataKey(WrappedDataKey(tenantID: tenant.id, version: 2, rootVersion: 1, wrapped: [7], createdAt: 3))
            }
            #expect(stale?.code == .keyVersionUnknown)
            #expect(try await storage.keyring.dataKeys(tenantID: tenant.id).count == 1)

            // A rotation that misses a data key changes nothing.
            let incomplete = await #expect(throws: CofferError.self) {
                try await storage.keyring.rotateRootKey(
                    RootKeyRecord(version: 3, check: [3], kdfJSON: nil, active: true, createdAt: 4), systemKeys: ["h": [3]], dataKeys: [])
            }
            #expect(incomplete?.code == .keyVersionUnknown)
            #expect(try await storage.keyring.rootKeyRecords().filter(\.active).map(\.version) == [2])
            #expect(try await storage.keyring.systemKey(named: "h")?.wrapped == [2])
        }
    }
}

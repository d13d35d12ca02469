import CofferCore
import CofferStore
import Testing

/// Mount storage on every engine: insert once per path, save, delete with every secret under the
/// mount; the `delete_version_after` query (secret's setting, else the mount's); and the upgrade step
/// that qualifies stored API-key KV scopes with the default mount.
@Suite("Mount store conformance")
struct MountConformanceTests {
    @Test(arguments: StorageEngine.available)
    func mountsAreKeptPerTenantAndDeletingOneRemovesItsSecrets(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("mnt")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            var mount = Mount(path: "team", kind: .kv, description: "d", accessor: "kv_1", createdAt: 5)
            #expect(try await storage.mounts.insertMount(tenantID: tenant.id, mount, in: .unaudited()))
            #expect(try await !storage.mounts.insertMount(tenantID: tenant.id, mount, in: .unaudited()), "a path is taken once")
            mount.kv = KVMountConfig(maxVersions: 3, casRequired: true, deleteVersionAfterSeconds: 60)
            mount.description = "changed"
            try await storage.mounts.saveMount(tenantID: tenant.id, mount, in: .unaudited())
            #expect(try await storage.mounts.mount(tenantID: tenant.id, path: "team") == mount)
            #expect(try await storage.mounts.mount(tenantID: "someone-else", path: "team") == nil)
            #expect(try await storage.mounts.mounts(tenantID: tenant.id).map(\.path) == ["team"])

            let write = { (mountPath: String, path: String, time: Int64) in
                _ = try await storage.secrets.write(
                    tenantID: tenant.id, mount: mountPath, path: path,
                    SecretWrite(cas: nil, defaultMaxVersions: 10, keyVersion: 1, references: [:]) { _ in [1, 2, 3] }, at: time)
            }
            try await write("team", "a", 1_000)
            try await write("team", "b", 1_000)
            try await write("secret", "a", 1_000)
            // Due: the mount's 60 s for team/a and team/b; secret/a only through its own metadata.
            #expect(try await storage.secrets.dueVersions(tenantID: tenant.id, now: 60_999, limit: 10).isEmpty)
            let due = try await storage.secrets.dueVersions(tenantID: tenant.id, now: 61_000, limit: 10)
            #expect(due.map(\.description) == ["team/a@1", "team/b@1"] && due.allSatisfy { $0.dueAt == 61_000 })
            _ = try await storage.secrets.updateMetadata(
                tenantID: tenant.id, mount: "secret", path: "a", SecretMetadataUpdate(deleteVersionAfterSeconds: 10), at: 2_000)
            #expect(try await storage.secrets.dueVersions(tenantID: tenant.id, now: 61_000, limit: 10).count == 3)
            #expect(try await storage.secrets.softDelete(tenantID: tenant.id, due, in: .unaudited()) == 2)
            #expect(try await storage.secrets.softDelete(tenantID: tenant.id, due, in: .unaudited()) == 0, "already deleted")
            #expect(try await storage.secrets.versions(tenantID: tenant.id, mount: "team", path: "a").first?.deletedAt == 61_000)

            #expect(try await storage.mounts.secretCount(tenantID: tenant.id, path: "team") == 2)
            #expect(try await storage.mounts.deleteMount(tenantID: tenant.id, path: "team", in: .unaudited()) == 2)
            #expect(try await storage.mounts.deleteMount(tenantID: tenant.id, path: "team", in: .unaudited()) == nil)
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "team", path: "a") == nil)
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "a") != nil, "other mounts untouched")
        }
    }

    /// Upgrading to migration 13 turns `kv:read:payments/*` into `kv:read:<default mount>/payments/*`
    /// and leaves every other scope as it was.
    @Test(arguments: StorageEngine.available)
    func upgradingQualifiesStoredKVScopes(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("up")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            var record = APIKeyStoreConformanceTests.key("k1", tenant: tenant.id, hash: 7)
            record.scopes = ["kv:read:payments/*", "kv:write:app/db", "kv:*:x/*", "kv:read", "keys:verify", "transit:encrypt:kv:read:odd"]
            try await storage.apiKeys.insert(record)
            // Back to the schema before migration 13, then upgrade as a server configured with kv_mount = "vault".
            try await storage.owner.query("DROP TABLE mounts", [])
            try await storage.owner.query("DELETE FROM schema_migrations WHERE version = 13", [])
            #expect(try await Migrations.migrate(storage.owner, context: Migrations.Context(defaultKVMount: "vault")) == [13])
            storage.invalidateCaches()
            let upgraded = try await storage.apiKeys.key(id: "k1", tenantID: tenant.id)
            #expect(
                upgraded?.scopes == [
                    "kv:read:vault/payments/*", "kv:write:vault/app/db", "kv:*:vault/x/*", "kv:read", "keys:verify", "transit:encrypt:kv:read:odd",
                ])
        }
    }
}

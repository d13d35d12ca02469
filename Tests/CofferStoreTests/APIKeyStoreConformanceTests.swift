import CofferCore
import CofferStore
import Foundation
import Testing

@Suite("API key store conformance")
struct APIKeyStoreConformanceTests {
    static func key(_ id: String, tenant: String, hash: UInt8, expiresAt: Int64? = nil) -> APIKeyRecord {
        APIKeyRecord(
            id: id, tenantID: tenant, hash: [UInt8](repeating: hash, count: 32), displayPrefix: "sk_live_Ab12…", kind: .live, name: "billing",
            scopes: ["kv:read:payments/*", "keys:verify"], createdAt: 100, expiresAt: expiresAt, allowedCIDRs: ["10.0.0.0/8"], rateLimit: 50,
            quotaLimit: 1000, metadata: ["team": "payments"])
    }

    @Test(arguments: StorageEngine.available)
    func keysRoundTripAndStayInTheirTenant(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("keys-a")
            let (other, otherWrapped) = StorageConformanceTests.tenant("keys-b")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            try await storage.tenants.createTenant(other, firstKey: otherWrapped)
            let record = Self.key("key_1", tenant: tenant.id, hash: 1)
            try await storage.apiKeys.insert(record)
            #expect(try await storage.apiKeys.key(hash: [UInt8](repeating: 1, count: 32)) == record)
            #expect(try await storage.apiKeys.key(id: "key_1", tenantID: tenant.id) == record)
            #expect(try await storage.apiKeys.key(id: "key_1", tenantID: other.id) == nil, "another tenant cannot see it")
            #expect(try await storage.apiKeys.revoke(id: "key_1", tenantID: other.id, at: 5, reason: "x", by: "y") == false)
            await #expect(throws: (any Error).self, "hashes are unique") {
                try await storage.apiKeys.insert(Self.key("key_2", tenant: other.id, hash: 1))
            }

            for index in 2...5 { try await storage.apiKeys.insert(Self.key("key_\(index)", tenant: tenant.id, hash: UInt8(index))) }
            #expect(try await storage.apiKeys.list(tenantID: tenant.id, afterID: "", limit: 3).map(\.id) == ["key_1", "key_2", "key_3"])
            #expect(try await storage.apiKeys.list(tenantID: tenant.id, afterID: "key_3", limit: 3).map(\.id) == ["key_4", "key_5"])
            #expect(try await storage.apiKeys.list(tenantID: other.id, afterID: "", limit: 10).isEmpty)

            var changed = record
            changed.name = "renamed"
            changed.scopes = ["audit:read"]
            changed.allowedCIDRs = []
            changed.rateLimit = 7
            changed.hash = [9]
            #expect(try await storage.apiKeys.update(changed))
            let reread = try #require(try await storage.apiKeys.key(id: "key_1", tenantID: tenant.id))
            #expect(reread.name == "renamed" && reread.scopes == ["audit:read"] && reread.rateLimit == 7 && reread.allowedCIDRs.isEmpty)
            #expect(reread.hash == record.hash, "update never changes the hash")

            #expect(try await storage.apiKeys.revoke(id: "key_1", tenantID: tenant.id, at: 500, reason: "leaked in a log", by: "acc-admin"))
            #expect(try await storage.apiKeys.revoke(id: "key_1", tenantID: tenant.id, at: 600, reason: "again", by: "acc-admin") == false)
            let revoked = try #require(try await storage.apiKeys.key(id: "key_1", tenantID: tenant.id))
            #expect(revoked.revokedAt == 500 && revoked.revokedReason == "leaked in a log" && revoked.revokedBy == "acc-admin")

            try await storage.apiKeys.touch([("key_2", 1_000), ("key_2", 900), ("key_3", 2_000)])
            try await storage.apiKeys.touch([("key_2", 800)])
            #expect(try await storage.apiKeys.key(id: "key_2", tenantID: tenant.id)?.lastUsedAt == 1_000, "last use only moves forward")
        }
    }

    @Test(arguments: StorageEngine.available)
    func rotationLinksKeysAndStoresTheExpiryGiven(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("rot-keys")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            try await storage.apiKeys.insert(Self.key("key_old", tenant: tenant.id, hash: 1, expiresAt: 5_000))
            #expect(
                try await storage.apiKeys.rotate(
                    id: "key_old", tenantID: tenant.id, replacement: Self.key("key_new", tenant: tenant.id, hash: 2), oldExpiresAt: 9_000))
            let old = try #require(try await storage.apiKeys.key(id: "key_old", tenantID: tenant.id))
            let new = try #require(try await storage.apiKeys.key(id: "key_new", tenantID: tenant.id))
            #expect(old.rotatedTo == "key_new" && new.rotatedFrom == "key_old")
            #expect(old.expiresAt == 9_000, "the store saves the expiry the service decided (the service caps it)")
            #expect(new.scopes == old.scopes && new.rateLimit == old.rateLimit)
            #expect(
                try await storage.apiKeys.rotate(
                    id: "key_old", tenantID: tenant.id, replacement: Self.key("key_x", tenant: tenant.id, hash: 3), oldExpiresAt: 1)
                    == false, "a key is rotated once")
            #expect(try await storage.apiKeys.key(id: "key_x", tenantID: tenant.id) == nil, "a refused rotation inserts nothing")
            _ = try await storage.apiKeys.revoke(id: "key_new", tenantID: tenant.id, at: 10, reason: "r", by: "a")
            #expect(
                try await storage.apiKeys.rotate(
                    id: "key_new", tenantID: tenant.id, replacement: Self.key("key_y", tenant: tenant.id, hash: 4), oldExpiresAt: 1)
                    == false, "revoked keys are not rotated")
        }
    }

    @Test(arguments: StorageEngine.available)
    func censusCountsKeysByStateAndAgeAcrossTenants(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("census-a")
            let (other, otherWrapped) = StorageConformanceTests.tenant("census-b")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            try await storage.tenants.createTenant(other, firstKey: otherWrapped)
            let day: Int64 = 86_400_000
            let now: Int64 = 1_000 * day
            func key(_ index: UInt8, tenant: String, ageDays: Int64, expiresAt: Int64? = nil) -> APIKeyRecord {
                var record = Self.key("census_\(index)", tenant: tenant, hash: 100 + index, expiresAt: expiresAt)
                record.createdAt = now - ageDays * day
                return record
            }
            try await storage.apiKeys.insert(key(1, tenant: tenant.id, ageDays: 1))
            try await storage.apiKeys.insert(key(2, tenant: other.id, ageDays: 29))
            try await storage.apiKeys.insert(key(3, tenant: other.id, ageDays: 30, expiresAt: now))  // expired at exactly now
            try await storage.apiKeys.insert(key(4, tenant: tenant.id, ageDays: 100, expiresAt: now + 1))
            try await storage.apiKeys.insert(key(5, tenant: tenant.id, ageDays: 400))
            #expect(try await storage.apiKeys.revoke(id: "census_5", tenantID: tenant.id, at: now - day, reason: "old", by: "admin"))
            let counts = Set(try await storage.apiKeys.census(now: now))
            #expect(
                counts == [
                    APIKeyCensus(state: .active, age: .under30Days, count: 2), APIKeyCensus(state: .expired, age: .under90Days, count: 1),
                    APIKeyCensus(state: .active, age: .underYear, count: 1), APIKeyCensus(state: .revoked, age: .overYear, count: 1),
                ])
        }
    }
}

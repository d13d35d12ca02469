import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// Transit keys and policies over real storage on each engine: sealed at rest, no lost updates.
@Suite("Transit storage")
struct TransitStoreTests {
    @Test(arguments: StorageEngine.available)
    func keysAreSealedAndConcurrentRotationsAllLand(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let clock = ManualClock()
            let keyring = try await Keyring.open(storage: storage, source: .key(SecureRandom.bytes(32), origin: "test"), clock: clock)
            let tenants = TenantService(
                tenants: storage.tenants, keyring: keyring, tokens: TokenService(store: storage.tokens, hasher: keyring, clock: clock),
                clock: clock)
            let (tenant, _) = try await tenants.create(name: "transit-a", environment: .production, in: .unaudited())
            let (other, _) = try await tenants.create(name: "transit-b", environment: .production, in: .unaudited())
            let transit = TransitService(store: storage.transit, keyring: keyring, clock: clock, cacheKeys: !storage.isShared)
            let key = try await transit.create(tenant: tenant, name: "orders", type: .aes256GCM96, in: .unaudited())
            let material = try #require(key.version(1)?.material)
            let sealed = try #require(try await storage.transit.sealedKey(tenantID: tenant.id, name: "orders"))
            #expect(sealed.count > 32 && Data(sealed).range(of: Data(material)) == nil, "no key material in clear")
            await expectError(.notFound, "another tenant has no such key") { _ = try await transit.key(tenant: other, name: "orders") }

            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { _ = try await transit.rotate(tenant: tenant, name: "orders", in: .unaudited()) } }
                try await group.waitForAll()
            }
            let rotated = try await transit.key(tenant: tenant, name: "orders")
            #expect(rotated.versions.map(\.version) == Array(1...9), "eight concurrent rotations, none lost")
            let (ciphertext, version) = try await transit.encrypt(tenant: tenant, name: "orders", plaintext: [7, 7])
            #expect(version == 9 && ciphertext.hasPrefix("vault:v9:"))

            // Moving the sealed blob to another tenant's row does not open it there.
            _ = try await transit.create(tenant: other, name: "orders", type: .aes256GCM96, in: .unaudited())
            try await storage.owner.query(
                "UPDATE transit_keys SET sealed = $1 WHERE tenant_id = $2 AND name = $3", [.blob(sealed), .text(other.id), .text("orders")])
            let fresh = TransitService(store: storage.transit, keyring: keyring, clock: clock, cacheKeys: false)
            await expectError(.decryptionFailed, "sealed blobs are bound to their tenant and name") {
                _ = try await fresh.key(tenant: other, name: "orders")
            }

            // After a data-key rotation, re-sealing moves every key to the new data key; the material is unchanged.
            let dataKeyVersion = try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited())
            let rotatedTenant = try #require(try await storage.tenants.tenant(id: tenant.id))
            #expect(rotatedTenant.activeKeyVersion == dataKeyVersion)
            #expect(try await transit.resealAll(tenant: rotatedTenant, in: .unaudited()) == 1)
            #expect(try await transit.resealAll(tenant: rotatedTenant, in: .unaudited()) == 0, "idempotent")
            let resealed = try #require(try await storage.transit.sealedKey(tenantID: tenant.id, name: "orders"))
            #expect(SealedBox.keyVersion(of: resealed) == dataKeyVersion)
            #expect(try await transit.decrypt(tenant: rotatedTenant, name: "orders", ciphertext: ciphertext).plaintext == [7, 7])

            try await storage.transit.putPolicy(tenantID: tenant.id, name: "P-1", document: "{}", at: 1)
            try await storage.transit.putPolicy(tenantID: tenant.id, name: "P-1", document: "{\"v\":2}", at: 2)
            #expect(try await storage.transit.policy(tenantID: tenant.id, name: "P-1") == "{\"v\":2}")
            #expect(try await storage.transit.policy(tenantID: other.id, name: "P-1") == nil)
            #expect(try await storage.transit.policyNames(tenantID: tenant.id) == ["P-1"])
            #expect(try await storage.transit.deletePolicy(tenantID: tenant.id, name: "P-1"))
            #expect(try await storage.transit.deletePolicy(tenantID: tenant.id, name: "P-1") == false)
        }
    }
}

import CofferCore
import CofferStore
import Testing

/// Wrapped responses on every engine: found by token hash while live, taken exactly once, expired
/// ones neither found nor taken, and purged.
@Suite("Wrapping store conformance")
struct WrappingConformanceTests {
    @Test(arguments: StorageEngine.available)
    func wrapsAreTakenOnceAndExpire(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("wrap")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let live = WrappedResponse(
                accessor: "a1", tenantID: tenant.id, tokenHash: [1, 1], creationPath: "secret/data/x", createdAt: 10, expiresAt: 1_000, sealed: [9])
            let old = WrappedResponse(
                accessor: "a2", tenantID: tenant.id, tokenHash: [2, 2], creationPath: "auth/token/create", createdAt: 10, expiresAt: 50, sealed: [8])
            try await storage.wrapping.insertWrapped(live, in: .unaudited())
            try await storage.wrapping.insertWrapped(old, in: .unaudited())
            #expect(try await storage.wrapping.wrapped(tokenHash: [1, 1], now: 100) == live)
            #expect(try await storage.wrapping.wrapped(tokenHash: [2, 2], now: 100) == nil, "expired")
            #expect(try await storage.wrapping.takeWrapped(tokenHash: [2, 2], now: 100, in: .unaudited()) == nil)
            #expect(try await storage.wrapping.takeWrapped(tokenHash: [1, 1], now: 100, in: .unaudited()) == live)
            #expect(try await storage.wrapping.takeWrapped(tokenHash: [1, 1], now: 100, in: .unaudited()) == nil, "single use")
            #expect(try await storage.wrapping.purgeExpiredWraps(now: 100) == 1)
            #expect(try await storage.wrapping.purgeExpiredWraps(now: 100) == 0)
        }
    }
}

import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// The API-key service over real storage on each engine: lifecycle, verification order, limits on the
/// engine's limiter (memory for SQLite, the shared table for PostgreSQL) and cache coherence.
@Suite("API key service")
struct APIKeyServiceTests {
    static let hasher = CredentialHasher(keyBytes: [UInt8](repeating: 7, count: 32))

    static func withService(
        _ engine: StorageEngine, _ body: (APIKeyService, SQLStorage, ManualClock, Tenant, Tenant) async throws -> Void
    ) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("svc-a")
            let (other, otherWrapped) = StorageConformanceTests.tenant("svc-b")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            try await storage.tenants.createTenant(other, firstKey: otherWrapped)
            let clock = ManualClock()
            let service = APIKeyService(store: storage.apiKeys, hasher: hasher, clock: clock, limiter: storage.rateLimits)
            try await body(service, storage, clock, tenant, other)
        }
    }

    static let admin = APIKeyService.Grantor.role(.admin)

    /// The rule lives in the service: a grace period never extends a key's life past its own expiry.
    @Test(arguments: StorageEngine.available)
    func rotationGraceNeverExtendsTheOldKey(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, _, clock, tenant, _ in
            let expiry = clock.nowMillis + 30_000
            let (_, record) = try await service.create(
                tenant: tenant, settings: .init(name: "brief", scopes: ["kv:read"], expiresAt: .some(expiry)), admin: false, grantor: Self.admin,
                in: .unaudited())
            _ = try await service.rotate(id: record.id, tenantID: tenant.id, graceSeconds: 3600, grantor: Self.admin, in: .unaudited())
            #expect(try await service.get(id: record.id, tenantID: tenant.id).expiresAt == expiry)
        }
    }

    @Test(arguments: StorageEngine.available)
    func lifecycleCodesFromTheirInstant(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, _, clock, tenant, other in
            let (key, record) = try await service.create(
                tenant: tenant, settings: .init(name: "billing", scopes: ["kv:read:payments/*"]), admin: false, grantor: Self.admin, in: .unaudited())
            #expect(key.hasPrefix("sk_test_"), "a staging tenant's keys are test keys")
            #expect(record.hash == Self.hasher.hash(key) && !record.displayPrefix.contains(String(key.dropFirst(12))))
            func code(_ presented: String = key, tenantID: String = tenant.id, required: [String] = []) async throws -> APIKeyVerifyCode {
                try await service.verify(
                    presented, tenantID: tenantID, clientIP: nil, required: required.compactMap(APIKeyVerifier.Requirement.init)
                ).code
            }
            #expect(try await code() == .valid)
            #expect(try await code(tenantID: other.id) == .notFound, "another tenant's key does not exist for this caller")
            #expect(try await code(required: ["kv:read:payments/visa"]) == .valid)
            #expect(try await code(required: ["kv:write:payments/visa"]) == .insufficientScope)
            #expect(try await code(APIKeyFormat.generate(.test)) == .notFound)
            let mistyped = String(key.dropLast()) + (key.hasSuffix("a") ? "b" : "a")
            #expect(try await code(mistyped) == .malformed, "a bad checksum is refused before any lookup")

            // Rotation with a grace period: both keys work until it ends, then only the new one.
            let (newKey, replacement) = try await service.rotate(
                id: record.id, tenantID: tenant.id, graceSeconds: 60, grantor: Self.admin, in: .unaudited())
            #expect(replacement.rotatedFrom == record.id && replacement.scopes == record.scopes && replacement.name == "billing")
            #expect(try await service.get(id: record.id, tenantID: tenant.id).rotatedTo == replacement.id)
            #expect(try await code() == .valid)
            #expect(try await code(newKey) == .valid)
            clock.advance(millis: 60_000)
            #expect(try await code() == .expired, "the grace period ends exactly on time")
            #expect(try await code(newKey) == .valid)
            await expectError(.invalidRequest, "a rotated key cannot be rotated again") {
                _ = try await service.rotate(id: record.id, tenantID: tenant.id, graceSeconds: 0, grantor: Self.admin, in: .unaudited())
            }

            // Grace 0 stops the old key at once; revocation is immediate and recorded.
            let (third, _) = try await service.rotate(id: replacement.id, tenantID: tenant.id, graceSeconds: 0, grantor: Self.admin, in: .unaudited())
            #expect(try await code(newKey) == .expired)
            let thirdID = try #require(try await service.lookup(third)).id
            let revoked = try await service.revoke(
                id: thirdID, tenantID: tenant.id, reason: "leaked", by: "token:abc", grantor: Self.admin, in: .unaudited())
            #expect(revoked.revokedAt == clock.nowMillis && revoked.revokedReason == "leaked" && revoked.revokedBy == "token:abc")
            #expect(try await code(third) == .revoked)
            await expectError(.notFound) {
                _ = try await service.revoke(id: thirdID, tenantID: other.id, reason: "", by: "x", grantor: Self.admin, in: .unaudited())
            }
        }
    }

    @Test(arguments: StorageEngine.available)
    func limitsAreConsumedOnlyByOtherwiseValidRequests(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, _, clock, tenant, _ in
            let settings = APIKeyService.Settings(
                name: "metered", allowedCIDRs: ["10.0.0.0/8"], rateLimit: 2, ratePeriodMillis: 60_000, quotaLimit: 3, quotaWindowMillis: 86_400_000)
            let (key, _) = try await service.create(tenant: tenant, settings: settings, admin: false, grantor: Self.admin, in: .unaudited())
            func verify(ip: String = "10.0.0.1") async throws -> APIKeyVerifier.Outcome {
                try await service.verify(key, tenantID: tenant.id, clientIP: ip, required: [])
            }
            #expect(try await verify(ip: "192.168.0.1").code == .forbiddenIP)
            let first = try await verify()
            #expect(first.code == .valid && first.rateLimit?.remaining == 1 && first.quota?.remaining == 2, "the refused request used nothing")
            #expect(try await verify().code == .valid)
            let limited = try await verify()
            #expect(limited.code == .rateLimited && limited.rateLimit?.retryAfterSeconds == 30)
            #expect(limited.quota == nil, "a rate-limited request does not touch the quota")
            clock.advance(millis: 30_000)
            let third = try await verify()
            #expect(third.code == .valid && third.quota?.remaining == 0)
            clock.advance(millis: 60_000)
            #expect(try await verify().code == .quotaExceeded)
            clock.advance(millis: 86_400_000)
            #expect(try await verify().code == .valid, "the quota renews with the next window")
        }
    }

    @Test(arguments: StorageEngine.available)
    func sharedLimiterAdmitsExactlyTheLimitUnderConcurrency(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let limiter = storage.rateLimits
            let allowed = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<40 {
                    group.addTask { try await limiter.rate(bucket: "race", limit: 10, periodMillis: 60_000, cost: 1, now: 1_000).allowed }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(allowed == 10)
            let paced = try await limiter.rate(bucket: "race", limit: 10, periodMillis: 60_000, cost: 1, now: 7_000)
            #expect(paced.allowed && paced.remaining == 0, "one emission interval (6 s) later, exactly one more")
            let refused = try await limiter.rate(bucket: "race", limit: 10, periodMillis: 60_000, cost: 1, now: 7_001)
            #expect(!refused.allowed && refused.retryAfterMillis == 5_999)
            #expect(try await limiter.rate(bucket: "race", limit: 10, periodMillis: 60_000, cost: 11, now: 999_000).allowed == false)

            let quotas = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await limiter.quota(bucket: "q", limit: 5, windowMillis: 86_400_000, cost: 1, now: 10).allowed }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(quotas == 5)
            let denied = try await limiter.quota(bucket: "q", limit: 5, windowMillis: 86_400_000, cost: 1, now: 86_399_999)
            #expect(!denied.allowed && denied.remaining == 0 && denied.resetMillis == 1)
            #expect(try await limiter.quota(bucket: "q", limit: 5, windowMillis: 86_400_000, cost: 5, now: 86_400_000).remaining == 0)
        }
    }

    /// Three instances (three storages on one PostgreSQL database) hammer one key's limit at once:
    /// leases keep them within 1% of it, never above it.
    @Test(.enabled(if: StorageEngine.available.contains(.postgres)))
    func threeInstancesShareALeasedLimit() async throws {
        try await StorageConformanceTests.withStorage(.postgres) { storage, url in
            let others = [try await SQLStorage.open(url: url), try await SQLStorage.open(url: url)]
            let limiters = [storage.rateLimits] + others.map(\.rateLimits)
            let limit = 30_000
            let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
                for limiter in limiters {
                    for _ in 0..<8 {
                        group.addTask {
                            var count = 0
                            for _ in 0..<1_300 {
                                // Everything at one instant: the whole burst and nothing more is available.
                                let decision = try await limiter.rate(bucket: "key:shared", limit: limit, periodMillis: 60_000, cost: 1, now: 1_000)
                                if decision.allowed { count += 1 }
                            }
                            return count
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            print("three instances, 31,200 attempts on a limit of \(limit): \(admitted) admitted")
            #expect(admitted <= limit && admitted >= limit - limit / 100, "admitted \(admitted)")
            for other in others { try await other.shutdown() }
        }
    }

    @Test(arguments: StorageEngine.available)
    func grantsNeverExceedTheGrantor(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, _, _, tenant, _ in
            let scoped = APIKeyService.Grantor.apiKey(scopes: [Scope("kv:read:payments/*"), Scope("keys:manage")].compactMap { $0 }, admin: false)
            let ok = try await service.create(
                tenant: tenant, settings: .init(name: "child", scopes: ["kv:read:payments/eu/*"]), admin: false, grantor: scoped, in: .unaudited())
            #expect(ok.record.scopes == ["kv:read:payments/eu/*"])
            // Managing a key is granting its scopes again: a scoped manager cannot touch a stronger key.
            let strong = try await service.create(
                tenant: tenant, settings: .init(name: "strong", scopes: ["kv:read"]), admin: false, grantor: Self.admin, in: .unaudited())
            await expectError(.permissionDenied, "rotating would hand out a stronger key") {
                _ = try await service.rotate(id: strong.record.id, tenantID: tenant.id, graceSeconds: 0, grantor: scoped, in: .unaudited())
            }
            await expectError(.permissionDenied) {
                _ = try await service.update(
                    id: strong.record.id, tenantID: tenant.id, settings: .init(allowedCIDRs: []), grantor: scoped, in: .unaudited())
            }
            await expectError(.permissionDenied) {
                _ = try await service.revoke(id: strong.record.id, tenantID: tenant.id, reason: "", by: "k", grantor: scoped, in: .unaudited())
            }
            #expect(
                try await service.rotate(id: ok.record.id, tenantID: tenant.id, graceSeconds: 0, grantor: scoped, in: .unaudited()).record.scopes
                    == ok.record.scopes)
            for scopes in [["kv:read:hr/*"], ["kv:write:payments/x"], ["kv:read"], ["audit:read"]] {
                await expectError(.permissionDenied, "\(scopes) exceeds the grantor") {
                    _ = try await service.create(
                        tenant: tenant, settings: .init(name: "x", scopes: scopes), admin: false, grantor: scoped, in: .unaudited())
                }
            }
            await expectError(.permissionDenied, "only admins make admin keys") {
                _ = try await service.create(tenant: tenant, settings: .init(name: "x"), admin: true, grantor: scoped, in: .unaudited())
            }
            await expectError(.invalidRequest, "admin scopes need an admin key") {
                _ = try await service.create(
                    tenant: tenant, settings: .init(name: "x", scopes: ["tenants:manage"]), admin: false, grantor: Self.admin, in: .unaudited())
            }
            for bad in [
                APIKeyService.Settings(name: ""), .init(name: "x", scopes: ["KV:read"]), .init(name: "x", expiresAt: .some(1)),
                .init(name: "x", allowedCIDRs: ["10.0.0.0/33"]), .init(name: "x", rateLimit: -1), .init(name: "x", ratePeriodMillis: 10),
                .init(name: "x\u{7}"), .init(name: "x", metadata: ["": "v"]),
            ] {
                await expectError(.invalidRequest) {
                    _ = try await service.create(tenant: tenant, settings: bad, admin: false, grantor: Self.admin, in: .unaudited())
                }
            }
        }
    }

    @Test(arguments: StorageEngine.available)
    func cachedLookupsSeeEveryChangeAtOnce(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, storage, clock, tenant, _ in
            let (key, record) = try await service.create(
                tenant: tenant, settings: .init(name: "hot", scopes: ["keys:verify"]), admin: false, grantor: Self.admin, in: .unaudited())
            for _ in 0..<3 { #expect(try await service.lookup(key)?.scopes == ["keys:verify"]) }
            _ = try await service.update(
                id: record.id, tenantID: tenant.id, settings: .init(scopes: ["audit:read"]), grantor: Self.admin, in: .unaudited())
            #expect(try await service.lookup(key)?.scopes == ["audit:read"], "an update is visible to the next lookup")
            _ = try await service.revoke(id: record.id, tenantID: tenant.id, reason: "r", by: "t", grantor: Self.admin, in: .unaudited())
            #expect(try await service.lookup(key)?.revokedAt == clock.nowMillis, "a revocation is visible to the next lookup")

            // Tenants are cached too: a data-key rotation must show at once.
            #expect(try await storage.tenants.tenant(id: tenant.id)?.activeKeyVersion == 1)
            try await storage.keyring.addDataKey(WrappedDataKey(tenantID: tenant.id, version: 2, rootVersion: 1, wrapped: [4], createdAt: 2))
            #expect(try await storage.tenants.tenant(id: tenant.id)?.activeKeyVersion == 2)
            try await storage.keyring.setActiveDataKey(tenantID: tenant.id, version: 1)
            #expect(try await storage.tenants.tenant(id: tenant.id)?.activeKeyVersion == 1)
        }
    }

    @Test(arguments: StorageEngine.available)
    func lastUseIsWrittenInBatches(engine: StorageEngine) async throws {
        try await Self.withService(engine) { service, _, clock, tenant, _ in
            let (key, record) = try await service.create(
                tenant: tenant, settings: .init(name: "used"), admin: false, grantor: Self.admin, in: .unaudited())
            #expect(try await service.get(id: record.id, tenantID: tenant.id).lastUsedAt == nil)
            clock.advance(millis: 5_000)
            _ = try await service.verify(key, tenantID: tenant.id, clientIP: nil, required: [])
            #expect(try await service.get(id: record.id, tenantID: tenant.id).lastUsedAt == clock.nowMillis, "reads include the pending use")
            _ = try await service.verify("sk_test_" + String(repeating: "A", count: 49), tenantID: tenant.id, clientIP: nil, required: [])
            try await service.flushLastUsed()
            #expect(service.usage.pendingLastUse(record.id) == nil)
            #expect(try await service.list(tenantID: tenant.id).first?.lastUsedAt == clock.nowMillis)
            #expect(service.usage.drainTallies()[tenant.id] == ["VALID": 1, "MALFORMED": 1])
        }
    }
}

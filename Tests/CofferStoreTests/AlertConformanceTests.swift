import CofferCore
import CofferStore
import Foundation
import Testing

@Suite("Alert store conformance")
struct AlertConformanceTests {
    static let trigger = AlertTrigger(
        rule: .failedAuth, severity: .page, dedupKey: "tenant", summary: "11 failed authentications in 60 s", details: ["count": "11"])

    static func work(_ tenantID: String) -> UnitOfWork {
        UnitOfWork.system("alerts", tenantID: tenantID, operation: "alert.firing", resourceType: "alert", time: 1_000, audited: true)
    }

    @Test(arguments: StorageEngine.available)
    func raisingDeduplicatesCoolsDownAndAudits(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("alerts-a")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            let alerts = storage.alerts
            let first = Self.work(tenant.id)
            let opened = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_1", now: 10_000, cooldownMillis: 60_000, in: first)
            #expect(opened.opened && opened.notify && opened.alert.id == "alr_1" && opened.alert.count == 1 && opened.alert.state == .firing)
            #expect(first.committedEntry?.sequence == 1, "a new alert is recorded in the tenant's chain with it")

            let repeatWork = Self.work(tenant.id)
            let counted = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_2", now: 20_000, cooldownMillis: 60_000, in: repeatWork)
            #expect(!counted.opened && !counted.notify && counted.alert.id == "alr_1" && counted.alert.count == 2 && counted.alert.lastAt == 20_000)
            #expect(repeatWork.committedEntry == nil, "a counted occurrence writes no entry")
            let later = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_3", now: 70_000, cooldownMillis: 60_000, in: Self.work(tenant.id))
            #expect(later.notify && later.alert.count == 3 && later.alert.notifiedAt == 70_000, "told again once the cool-down passed")

            let acknowledged = try await alerts.acknowledge(id: "alr_1", tenantID: tenant.id, by: "token:acc", at: 71_000, in: .unaudited())
            #expect(acknowledged?.state == .acknowledged && acknowledged?.acknowledgedBy == "token:acc" && acknowledged?.acknowledgedAt == 71_000)
            let quietNow = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_4", now: 200_000, cooldownMillis: 60_000, in: Self.work(tenant.id))
            #expect(!quietNow.notify && quietNow.alert.count == 4, "an acknowledged alert counts but does not notify")

            #expect(try await alerts.resolve(id: "alr_1", tenantID: tenant.id, lastAt: 70_000, at: 300_000, in: .unaudited()) == false, "stale")
            #expect(try await alerts.resolve(id: "alr_1", tenantID: tenant.id, lastAt: 200_000, at: 300_000, in: .unaudited()))
            let reopened = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_5", now: 400_000, cooldownMillis: 60_000, in: Self.work(tenant.id))
            #expect(reopened.opened && reopened.alert.id == "alr_5", "after resolution the next occurrence is a new alert")
            #expect(try await alerts.list(tenantID: tenant.id, state: nil, limit: 10).map(\.id) == ["alr_5", "alr_1"])
            #expect(try await alerts.list(tenantID: tenant.id, state: .resolved, limit: 10).map(\.id) == ["alr_1"])
            #expect(try await alerts.alert(id: "alr_1", tenantID: tenant.id)?.resolvedAt == 300_000)
        }
    }

    @Test(arguments: StorageEngine.available)
    func alertsAndSettingsStayInTheirTenant(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("alerts-b")
            let (other, otherWrapped) = StorageConformanceTests.tenant("alerts-c")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            try await storage.tenants.createTenant(other, firstKey: otherWrapped)
            let alerts = storage.alerts
            _ = try await alerts.raise(
                tenantID: tenant.id, trigger: Self.trigger, newID: "alr_b", now: 1_000, cooldownMillis: 0, in: Self.work(tenant.id))
            let theirs = try await alerts.raise(
                tenantID: other.id, trigger: Self.trigger, newID: "alr_c", now: 2_000, cooldownMillis: 0, in: Self.work(other.id))
            #expect(theirs.opened, "the same rule and key in another tenant is another alert")
            #expect(try await alerts.alert(id: "alr_b", tenantID: other.id) == nil)
            #expect(try await alerts.acknowledge(id: "alr_b", tenantID: other.id, by: "x", at: 3_000, in: .unaudited()) == nil)
            #expect(try await alerts.resolve(id: "alr_b", tenantID: other.id, lastAt: 1_000, at: 3_000, in: .unaudited()) == false)
            #expect(try await alerts.alert(id: "alr_b", tenantID: tenant.id)?.state == .firing)
            #expect(try await alerts.list(tenantID: other.id, state: nil, limit: 10).map(\.id) == ["alr_c"])
            #expect(Set(try await alerts.quiet(before: 5_000, limit: 10).map(\.id)) == ["alr_b", "alr_c"], "the resolver sees every tenant")
            #expect(try await alerts.quiet(before: 1_500, limit: 10).map(\.id) == ["alr_b"])

            var settings = AlertSettings()
            settings.rules[.failedAuth] = try AlertRule.defaultRule(.failedAuth).updated(with: ["threshold": 3])
            try await alerts.saveSettings(tenantID: tenant.id, settings.json, in: .unaudited())
            #expect(try await alerts.settings(tenantID: tenant.id).map { try AlertSettings(stored: $0) } == settings)
            #expect(try await alerts.settings(tenantID: other.id) == nil)
            settings.rules[.failedAuth]?.threshold = 4
            try await alerts.saveSettings(tenantID: tenant.id, settings.json, in: .unaudited())
            #expect(try await alerts.settings(tenantID: tenant.id).map { try AlertSettings(stored: $0) }?.rule(.failedAuth).threshold == 4)
        }
    }

    @Test(arguments: StorageEngine.available)
    func concurrentRaisesOpenOneAlert(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, wrapped) = StorageConformanceTests.tenant("alerts-d")
            try await storage.tenants.createTenant(tenant, firstKey: wrapped)
            let alerts = storage.alerts
            let results = try await withThrowingTaskGroup(of: AlertRaise?.self) { group in  // every raise succeeds
                for index in 0..<8 {
                    group.addTask {
                        try await alerts.raise(
                            tenantID: tenant.id, trigger: Self.trigger, newID: "alr_r\(index)", now: 1_000 + Int64(index), cooldownMillis: 60_000,
                            in: Self.work(tenant.id))
                    }
                }
                var all: [AlertRaise?] = []
                for try await result in group { all.append(result) }
                return all
            }
            let open = try await alerts.list(tenantID: tenant.id, state: .firing, limit: 10)
            #expect(results.compactMap { $0 }.count == 8, "no raise fails under the race")
            #expect(open.count == 1, "one open alert per rule and key, whatever the race")
            #expect(results.compactMap { $0 }.filter(\.notify).count == 1, "and one notification")
            #expect(open.first?.count == results.compactMap { $0 }.count)
        }
    }

    /// The hourly check's token query: live tokens that cannot outlive the window, in their own tenant.
    @Test(arguments: StorageEngine.available)
    func tokensEndingWithinTheWindow(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("ending")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            func insert(_ accessor: String, expires: Int64?, renewable: Bool = false, max: Int64? = nil) async throws {
                try await storage.tokens.insertToken(
                    TokenRecord(
                        accessor: accessor, tenantID: tenant.id, hash: Array(accessor.utf8), role: .viewer, displayName: accessor, createdAt: 0,
                        expiresAt: expires, parentAccessor: nil, ttlSeconds: 0, renewable: renewable, maxExpiresAt: max), in: .unaudited())
            }
            try await insert("fixed", expires: 5_000)
            try await insert("renewable", expires: 5_000, renewable: true)
            try await insert("capped", expires: 2_000, renewable: true, max: 6_000)
            try await insert("past", expires: 500)
            try await insert("later", expires: 50_000)
            try await insert("forever", expires: nil)
            let found = try await storage.tokens.tokensEnding(tenantID: tenant.id, now: 1_000, before: 10_000, limit: 10).map(\.accessor)
            #expect(found == ["capped", "fixed"])
            #expect(try await storage.tokens.tokensEnding(tenantID: "id-other", now: 1_000, before: 10_000, limit: 10).isEmpty)
        }
    }
}

import CofferCore
import Foundation
import Testing

@testable import CofferStore

/// The audit chain on every engine: tamper cases, append-only triggers, retention, fail-closed writes.
@Suite("Audit conformance")
struct AuditConformanceTests {
    enum Tamper: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case editContent, editContentAndHash, deleteMiddle, deleteFirst, reorder, truncateTail, truncateTailAndHead, rewriteWholesale
        var testDescription: String { rawValue }
        /// Needs a checkpoint to be caught (the chain is internally consistent afterwards).
        var needsCheckpoint: Bool { self == .truncateTailAndHead || self == .rewriteWholesale }
    }

    static func record(_ index: Int, time: Int64 = 1_000) -> AuditRecord {
        AuditRecord(
            time: time, actor: AuditActor(kind: "token", id: "acc\(index % 2)", role: "admin", displayName: "t"), operation: "kv.write",
            resourceType: "kv", resourceID: "secret/p\(index)", clientIP: "127.0.0.1", userAgent: "test", requestID: "req-\(index)", status: 200,
            errorCode: "", request: ["data": ["k": .string("hmac-sha256:\(index)")]])
    }

    static func setUp(_ storage: SQLStorage, entries: Int = 5) async throws -> (Keyring, AuditService, Tenant) {
        let keyring = try await Keyring.open(storage: storage, source: .key(SecureRandom.bytes(32), origin: "test"))
        let tenant = Tenant(
            id: "tenant-\(UUID().uuidString.prefix(6))", name: "audit", environment: .production, activeKeyVersion: 1, isSystem: true, createdAt: 1)
        try await storage.tenants.createTenant(tenant, firstKey: try keyring.newTenantKey(tenantID: tenant.id))
        let service = AuditService(store: storage.audit, keyring: keyring, clock: SystemClock())
        for index in 1...entries {
            _ = try await service.record(tenantID: tenant.id, record(index, time: Int64(index) * 1000))
        }
        return (keyring, service, tenant)
    }

    /// Batches naming two tenants in opposite orders, from two instances at once: heads are locked in
    /// one order, so none deadlocks (PostgreSQL would abort one with a deadlock error) and both chains verify.
    @Test(arguments: StorageEngine.available)
    func crossTenantBatchesNeverDeadlock(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, url in
            let other = engine == .postgres ? try await SQLStorage.open(url: url) : storage
            let (keyring, service, first) = try await Self.setUp(storage, entries: 1)
            let second = Tenant(
                id: "tenant-b\(UUID().uuidString.prefix(6))", name: "b", environment: .production, activeKeyVersion: 1, isSystem: false, createdAt: 1)
            try await storage.tenants.createTenant(second, firstKey: try keyring.newTenantKey(tenantID: second.id))
            let stores = [storage.audit, other.audit]
            // 20 rounds: every batch waits on the same two head rows, so under a loaded machine (the whole
            // suite running beside it) 40 queued batches could outlast the 15 s statement deadline.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<20 {
                    let order = round % 2 == 0 ? [first.id, second.id] : [second.id, first.id]
                    let store = stores[round % 2]
                    group.addTask { _ = try await store.append(order.map { ($0, Self.record(round)) }) }
                }
                try await group.waitForAll()
            }
            for tenant in [first.id, second.id] {
                let result = try await service.verify(tenantID: tenant)
                #expect(result.ok && result.checked == (tenant == first.id ? 21 : 20), "\(tenant): \(result)")
            }
            if engine == .postgres { try await other.shutdown() }
        }
    }

    /// Runs SQL as an attacker with database access would: with the append-only gate open.
    static func tamper(_ storage: SQLStorage, _ statements: [(String, [SQLValue])]) async throws {
        let dialect = storage.database.dialect
        try await storage.owner.transaction { tx in
            try await AuditSchema.openGate(tx, dialect: dialect)
            for (sql, binds) in statements { try await tx.query(sql, binds) }
            try await AuditSchema.closeGate(tx, dialect: dialect)
        }
    }

    @Test(arguments: StorageEngine.available, Tamper.allCases)
    func everyTamperIsDetected(engine: StorageEngine, tamper: Tamper) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, service, tenant) = try await Self.setUp(storage)
            let clean = try await service.verify(tenantID: tenant.id)
            #expect(clean.ok && clean.checked == 5 && clean.lastSequence == 5)
            let checkpoint = try #require(try await service.checkpoint(tenantID: tenant.id))
            let t = SQLValue.text(tenant.id)
            let entries = try await storage.audit.entries(tenantID: tenant.id, after: 0, limit: 10)
            switch tamper {
            case .editContent:
                var canonical = entries[2].canonical
                canonical[canonical.count / 2] ^= 0x01
                try await Self.tamper(
                    storage, [("UPDATE audit_entries SET canonical = $2 WHERE tenant_id = $1 AND sequence = 3", [t, .blob(canonical)])])
            case .editContentAndHash:
                let canonical = Array(
                    String(decoding: entries[2].canonical, as: UTF8.self).replacingOccurrences(of: "kv.write", with: "kv.read").utf8)
                let hash = AuditChain.hash(previous: entries[2].previousHash, canonical: canonical)
                try await Self.tamper(
                    storage,
                    [
                        (
                            "UPDATE audit_entries SET canonical = $2, entry_hash = $3 WHERE tenant_id = $1 AND sequence = 3",
                            [t, .blob(canonical), .blob(hash)]
                        )
                    ])
            case .deleteMiddle:
                try await Self.tamper(storage, [("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 3", [t])])
            case .deleteFirst:
                try await Self.tamper(storage, [("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 1", [t])])
            case .reorder:
                try await Self.tamper(
                    storage,
                    [
                        ("UPDATE audit_entries SET sequence = 100 WHERE tenant_id = $1 AND sequence = 2", [t]),
                        ("UPDATE audit_entries SET sequence = 2 WHERE tenant_id = $1 AND sequence = 3", [t]),
                        ("UPDATE audit_entries SET sequence = 3 WHERE tenant_id = $1 AND sequence = 100", [t]),
                    ])
            case .truncateTail:
                try await Self.tamper(storage, [("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence >= 4", [t])])
            case .truncateTailAndHead:
                try await Self.tamper(
                    storage,
                    [
                        ("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence >= 4", [t]),
                        ("UPDATE audit_heads SET sequence = 3, head_hash = $2 WHERE tenant_id = $1", [t, .blob(entries[2].entryHash)]),
                    ])
            case .rewriteWholesale:
                // Change entry 2 and recompute every later hash and the head: internally consistent.
                var statements: [(String, [SQLValue])] = []
                var previous = entries[0].entryHash
                for entry in entries.dropFirst() {
                    var canonical = entry.canonical
                    if entry.sequence == 2 {
                        canonical = Array(String(decoding: canonical, as: UTF8.self).replacingOccurrences(of: "secret/p2", with: "secret/xx").utf8)
                    }
                    let hash = AuditChain.hash(previous: previous, canonical: canonical)
                    statements.append(
                        (
                            "UPDATE audit_entries SET canonical = $2, previous_hash = $3, entry_hash = $4 WHERE tenant_id = $1 AND sequence = $5",
                            [t, .blob(canonical), .blob(previous), .blob(hash), .int(entry.sequence)]
                        ))
                    previous = hash
                }
                statements.append(("UPDATE audit_heads SET head_hash = $2 WHERE tenant_id = $1", [t, .blob(previous)]))
                try await Self.tamper(storage, statements)
            }
            let withoutCheckpoint = try await service.verify(tenantID: tenant.id)
            #expect(withoutCheckpoint.ok == tamper.needsCheckpoint, "only checkpoint-level tampering passes the chain walk alone")
            let withCheckpoint = try await service.verify(tenantID: tenant.id, checkpoints: [checkpoint])
            #expect(!withCheckpoint.ok, "\(tamper) must be detected")
            #expect(withCheckpoint.failure?.reason.isEmpty == false)
        }
    }

    @Test(arguments: StorageEngine.available)
    func entriesAreAppendOnlyOutsideRetention(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, service, tenant) = try await Self.setUp(storage, entries: 3)
            try await service.checkpoint(tenantID: tenant.id)
            _ = try await service.retain(tenantID: tenant.id, before: 1_500, by: .anonymous, requestID: "cut")
            #expect(try await storage.audit.anchor(tenantID: tenant.id) != nil)
            for sql in [
                "UPDATE audit_entries SET operation = 'x' WHERE tenant_id = $1", "DELETE FROM audit_entries WHERE tenant_id = $1",
                "DELETE FROM audit_checkpoints WHERE tenant_id = $1", "UPDATE audit_anchors SET sequence = 0 WHERE tenant_id = $1",
            ] {
                await #expect(throws: (any Error).self, "\(sql) must be refused") { try await storage.owner.query(sql, [.text(tenant.id)]) }
            }
            if engine == .postgres {
                await #expect(throws: (any Error).self) { try await storage.owner.query("TRUNCATE audit_entries", []) }
            }
            #expect(try await storage.audit.entries(tenantID: tenant.id, after: 0, limit: 10).count == 3)
            #expect(try await service.verify(tenantID: tenant.id).ok)
        }
    }

    @Test(arguments: StorageEngine.available)
    func retentionCutsAPrefixAndRecordsIt(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, service, tenant) = try await Self.setUp(storage, entries: 5)
            let actor = AuditActor(kind: "token", id: "admin-acc", role: "admin", displayName: "root")
            let result = try await service.retain(tenantID: tenant.id, before: 3_500, by: actor, requestID: "cut-1")
            #expect(result.deleted == 3 && result.cutSequence == 3)
            let remaining = try await storage.audit.entries(tenantID: tenant.id, after: 0, limit: 10)
            #expect(remaining.map(\.sequence) == [4, 5, 6])
            let cut = try #require(remaining.last?.record)
            #expect(cut.operation == "audit.retention.cut" && cut.details["deleted"] == "3" && cut.details["cut_sequence"] == "3")
            #expect(cut.details["hash_at_cut"] == result.hashAtCut.hexString)
            #expect(try await storage.audit.anchor(tenantID: tenant.id)?.sequence == 3)
            let verified = try await service.verify(tenantID: tenant.id)
            #expect(verified.ok && verified.checked == 3, "the chain still verifies from the cut")
            let again = try await service.retain(tenantID: tenant.id, before: 3_500, by: actor, requestID: "cut-2")
            #expect(again.deleted == 0)
            // Deleting the first entry after the anchor is still detected.
            try await Self.tamper(storage, [("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence = 4", [.text(tenant.id)])])
            #expect(!(try await service.verify(tenantID: tenant.id)).ok)
        }
    }

    /// A write made for a unit of work lands with the work's entry, or neither does.
    @Test(arguments: StorageEngine.available)
    func changeAndEntryCommitTogether(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, service, tenant) = try await Self.setUp(storage, entries: 1)
            func audited() -> UnitOfWork {
                let work = UnitOfWork(record: Self.record(9))
                work.identify(tenantID: tenant.id, actor: .anonymous) { $0 }
                work.describe("kv.write", "kv", "secret/atomic")
                return work
            }
            let work = audited()
            _ = try await StorageConformanceTests.write(storage, tenant.id, "atomic", in: work)
            #expect(work.committedEntry?.sequence == 2)
            #expect(try await storage.audit.head(tenantID: tenant.id).sequence == 2)

            // Break audit inserts: the change must roll back with its entry.
            switch engine {
            case .sqlite:
                try await storage.owner.query(
                    "CREATE TRIGGER broken BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END", [])
            case .postgres:
                try await storage.owner.query(
                    "CREATE FUNCTION broken() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql", [])
                try await storage.owner.query("CREATE TRIGGER broken BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION broken()", [])
            }
            await #expect(throws: (any Error).self) {
                _ = try await StorageConformanceTests.write(storage, tenant.id, "atomic", in: audited())
            }
            #expect(try await storage.secrets.metadata(tenantID: tenant.id, mount: "secret", path: "atomic")?.currentVersion == 1)
            #expect(try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "atomic").count == 1)
            #expect(try await service.verify(tenantID: tenant.id).ok)
        }
    }

    @Test(arguments: StorageEngine.available)
    func queryFiltersAndConcurrentAppendsStayLinear(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, service, tenant) = try await Self.setUp(storage, entries: 4)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 5...44 { group.addTask { _ = try await service.record(tenantID: tenant.id, Self.record(index, time: 9_000)) } }
                try await group.waitForAll()
            }
            let verified = try await service.verify(tenantID: tenant.id, pageSize: 7)
            #expect(verified.ok && verified.checked == 44)
            #expect(try await storage.audit.query(tenantID: tenant.id, AuditQuery(actorID: "acc1", limit: 1000)).count == 22)
            #expect(try await storage.audit.query(tenantID: tenant.id, AuditQuery(since: 2_000, until: 4_000)).map(\.sequence) == [2, 3])
            #expect(try await storage.audit.query(tenantID: tenant.id, AuditQuery(requestID: "req-7")).count == 1)
            #expect(try await storage.audit.query(tenantID: tenant.id, AuditQuery(succeeded: false)).isEmpty)
            let page = try await storage.audit.query(tenantID: tenant.id, AuditQuery(afterSequence: 40, limit: 3))
            #expect(page.map(\.sequence) == [41, 42, 43])
        }
    }
}

import CofferCore
import Crypto
import Foundation
import Testing

@testable import CofferStore

/// Issue 9 on every engine: a rolled-back keyring, forged audit anchors, edited index columns, and
/// values Coffer does not know, each written directly into the database as an attacker with file
/// access would.
@Suite("Integrity conformance")
struct IntegrityConformanceTests {
    /// A keyring, a tenant made through the service (so it has an authenticated state) and a secret service.
    static func setUp(_ storage: SQLStorage, rootKey: [UInt8]) async throws -> (Keyring, Tenant, SecretService) {
        let keyring = try await Keyring.open(storage: storage, source: .key(rootKey, origin: "test"))
        let service = TenantService(
            tenants: storage.tenants, keyring: keyring, tokens: TokenService(store: storage.tokens, hasher: keyring, clock: SystemClock()),
            clock: SystemClock())
        let (tenant, _) = try await service.create(name: "acme", environment: .production, in: .unaudited())
        let secrets = SecretService(
            store: storage.secrets, keyring: keyring, clock: SystemClock(), references: EnvReferencePolicy(patterns: [], environment: [:]))
        return (keyring, tenant, secrets)
    }

    /// Rows an attacker copies before a rotation, to restore afterwards.
    struct Snapshot {
        var dataKeys: [SQLRow]
        var active: Int64
        var state: SQLRow?
    }

    static func snapshot(_ storage: SQLStorage, _ tenant: Tenant) async throws -> Snapshot {
        let db = storage.owner
        let keys = try await db.query("SELECT * FROM data_keys WHERE tenant_id = $1", [.text(tenant.id)])
        let active = try await db.query("SELECT active_key_version FROM tenants WHERE id = $1", [.text(tenant.id)]).first?.int("active_key_version")
        let state = try await db.query("SELECT * FROM keyring_state WHERE tenant_id = $1", [.text(tenant.id)]).first
        return Snapshot(dataKeys: keys, active: active ?? 0, state: state)
    }

    static func restore(_ storage: SQLStorage, _ tenant: Tenant, _ snapshot: Snapshot, withState: Bool) async throws {
        try await storage.owner.transaction { tx in
            try await tx.query("DELETE FROM data_keys WHERE tenant_id = $1", [.text(tenant.id)])
            for row in snapshot.dataKeys {
                try await tx.query(
                    "INSERT INTO data_keys (tenant_id, version, root_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
                    [.text(tenant.id), .int(try row.int("version")), .int(try row.int("root_version")), .blob(try row.blob("wrapped")), .int(1)])
            }
            try await tx.query("UPDATE tenants SET active_key_version = $1 WHERE id = $2", [.int(snapshot.active), .text(tenant.id)])
            if withState, let state = snapshot.state {
                try await tx.query(
                    "UPDATE keyring_state SET generation = $2, active_version = $3, highest_version = $4, digests = $5, mac = $6 WHERE tenant_id = $1",
                    [
                        .text(tenant.id), .int(try state.int("generation")), .int(try state.int("active_version")),
                        .int(try state.int("highest_version")), .text(try state.text("digests")), .blob(try state.blob("mac")),
                    ])
            }
        }
        storage.invalidateCaches()
    }

    /// The issue's reproduction: copy the keyring, rotate, write under the new key, restore, restart.
    /// It used to start, answer `DECRYPTION_FAILED`, and then reissue version 2 over the lost key.
    @Test(arguments: StorageEngine.available, [true, false])
    func aRolledBackKeyringIsRefusedAtStart(engine: StorageEngine, restoreState: Bool) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, url in
            let rootKey = SecureRandom.bytes(32)
            let (keyring, tenant, secrets) = try await Self.setUp(storage, rootKey: rootKey)
            _ = try await secrets.write(tenant: tenant, mount: "secret", path: "old", data: ["v": "1"], cas: nil, in: .unaudited())
            let before = try await Self.snapshot(storage, tenant)
            #expect(try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited()) == 2)
            let rotated = try #require(try await storage.tenants.tenant(id: tenant.id))
            _ = try await secrets.write(tenant: rotated, mount: "secret", path: "new", data: ["v": "2"], cas: nil, in: .unaudited())

            try await Self.restore(storage, tenant, before, withState: restoreState)
            let reopened = try await SQLStorage.open(url: url)
            let refused = await #expect(throws: CofferError.self) {
                _ = try await Keyring.open(storage: reopened, source: .key(rootKey, origin: "test"))
            }
            #expect(refused?.code == .keyringInvalid)
            #expect(refused?.message.contains("acme") == true, "names the tenant: \(refused?.message ?? "")")
            #expect(refused?.message.contains("version 2") == true, "names the version: \(refused?.message ?? "")")
            try await reopened.shutdown()
        }
    }

    /// `keyring verify` reports; a rotation never reuses a version stored data names.
    @Test(arguments: StorageEngine.available)
    func verifyReportsAndVersionsAreNeverReissued(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (keyring, tenant, secrets) = try await Self.setUp(storage, rootKey: SecureRandom.bytes(32))
            #expect(try await keyring.verify().ok)
            let before = try await Self.snapshot(storage, tenant)
            #expect(try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited()) == 2)
            let rotated = try #require(try await storage.tenants.tenant(id: tenant.id))
            _ = try await secrets.write(tenant: rotated, mount: "secret", path: "new", data: ["v": "2"], cas: nil, in: .unaudited())
            try await Self.restore(storage, tenant, before, withState: true)

            let report = try await keyring.verify()
            #expect(!report.ok)
            #expect(report.problems.contains { $0.contains("acme") && $0.contains("version 2") && $0.contains("rolled back") }, "\(report.problems)")
            // Even asked to, the live keyring will not issue a version that stored data already names.
            let reissue = await #expect(throws: CofferError.self) { _ = try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited()) }
            #expect(reissue?.code == .keyringInvalid)
            #expect(try await storage.keyring.dataKeys(tenantID: tenant.id).map(\.version) == [1], "nothing was written")
        }
    }

    /// Editing `tenants.active_key_version` alone (pointing writes at an old key) is caught by the state's MAC.
    @Test(arguments: StorageEngine.available)
    func anEditedActiveVersionIsRefused(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, url in
            let rootKey = SecureRandom.bytes(32)
            let (keyring, tenant, _) = try await Self.setUp(storage, rootKey: rootKey)
            _ = try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited())
            try await storage.owner.query("UPDATE tenants SET active_key_version = 1 WHERE id = $1", [.text(tenant.id)])
            let reopened = try await SQLStorage.open(url: url)
            let refused = await #expect(throws: CofferError.self) {
                _ = try await Keyring.open(storage: reopened, source: .key(rootKey, origin: "test"))
            }
            #expect(refused?.code == .keyringInvalid && refused?.message.contains("active data key version is 1") == true)
            try await reopened.shutdown()
        }
    }

    /// A genuine rollback through the keyring (with its reason) is a state change the root key signs.
    @Test(arguments: StorageEngine.available)
    func aGenuineRollbackAndRotationStillVerify(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, url in
            let rootKey = SecureRandom.bytes(32)
            let (keyring, tenant, _) = try await Self.setUp(storage, rootKey: rootKey)
            _ = try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited())
            try await keyring.activate(tenantID: tenant.id, version: 1, in: .unaudited())
            #expect(try await keyring.rotateDataKey(tenantID: tenant.id, in: .unaudited()) == 3, "after a rollback the next version is still new")
            let reopened = try await SQLStorage.open(url: url)
            let again = try await Keyring.open(storage: reopened, source: .key(rootKey, origin: "test"))
            #expect(try await again.verify() == Keyring.VerifyReport(tenants: 1, dataKeys: 3, problems: []))
            try await reopened.shutdown()
        }
    }

    /// Revoking a token revokes every token below it, on every engine, and nothing else.
    @Test(arguments: StorageEngine.available)
    func revocationIsTransitiveOverChildren(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("rev")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            func token(_ accessor: String, parent: String?, hash: UInt8) async throws {
                try await storage.tokens.insertToken(
                    TokenRecord(
                        accessor: accessor, tenantID: tenant.id, hash: [hash], role: .admin, displayName: accessor, createdAt: 1, expiresAt: nil,
                        parentAccessor: parent, ttlSeconds: 0))
            }
            try await token("root", parent: nil, hash: 1)
            try await token("mod", parent: "root", hash: 2)
            try await token("view", parent: "mod", hash: 3)
            try await token("leaf", parent: "view", hash: 4)
            try await token("sibling", parent: "root", hash: 5)
            let revoked = try await storage.tokens.revokeToken(accessor: "mod", tenantID: tenant.id, at: 10)
            #expect(Set(revoked) == ["mod", "view", "leaf"])
            for accessor in ["root", "sibling"] {
                #expect(try await storage.tokens.token(accessor: accessor, tenantID: tenant.id)?.revokedAt == nil)
            }
            #expect(try await storage.tokens.token(accessor: "leaf", tenantID: tenant.id)?.revokedAt == 10)
            #expect(try await storage.tokens.revokeToken(accessor: "mod", tenantID: "other-tenant", at: 11).isEmpty)
        }
    }

    // MARK: - Audit

    static func auditSetUp(_ storage: SQLStorage, entries: Int = 8) async throws -> (AuditService, Tenant) {
        let (keyring, _, _) = try await Self.setUp(storage, rootKey: SecureRandom.bytes(32))
        let tenant = try #require(try await storage.tenants.tenant(named: "acme"))
        let service = AuditService(store: storage.audit, keyring: keyring, clock: SystemClock())
        for index in 1...entries {
            _ = try await service.record(tenantID: tenant.id, AuditConformanceTests.record(index, time: Int64(index) * 1000))
        }
        return (service, tenant)
    }

    /// The issue's reproduction: insert an anchor with the hash of entry 5 and delete entries 1-5. Both
    /// `verify` and `verify --checkpoints` used to say OK, silently skipping the checkpoint at 4.
    @Test(arguments: StorageEngine.available)
    func aForgedAnchorIsDetected(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (service, tenant) = try await Self.auditSetUp(storage)
            let entries = try await storage.audit.entries(tenantID: tenant.id, after: 0, limit: 10)
            let atFour = try AuditCheckpoint.sign(
                tenantID: tenant.id, sequence: 4, headHash: entries[3].entryHash, time: 1, key: Curve25519.Signing.PrivateKey())
            try await AuditConformanceTests.tamper(
                storage,
                [
                    (
                        "INSERT INTO audit_anchors (tenant_id, sequence, hash, created_at) VALUES ($1, 5, $2, 1)",
                        [.text(tenant.id), .blob(entries[4].entryHash)]
                    ),
                    ("DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence <= 5", [.text(tenant.id)]),
                ])
            let plain = try await service.verify(tenantID: tenant.id)
            #expect(!plain.ok && plain.failure?.reason.contains("anchor") == true, "\(String(describing: plain.failure))")
            let withCheckpoint = try await service.verify(tenantID: tenant.id, checkpoints: [atFour])
            #expect(!withCheckpoint.ok)
            #expect(withCheckpoint.checkpointsChecked == 0, "nothing is counted that was not checked")
        }
    }

    /// A real retention cut verifies, and a checkpoint below the cut is matched through the retention
    /// record (counted), while one the retention run never saw is a failure, never skipped.
    @Test(arguments: StorageEngine.available)
    func genuineRetentionVerifiesAndAccountsForEveryCheckpoint(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (service, tenant) = try await Self.auditSetUp(storage)
            let stored = try #require(try await service.checkpoint(tenantID: tenant.id))
            #expect(stored.sequence == 8)
            _ = try await service.record(tenantID: tenant.id, AuditConformanceTests.record(9, time: 9_000))
            let result = try await service.retain(
                tenantID: tenant.id, before: 8_500, by: .anonymous, requestID: "r")
            #expect(result.cutSequence == 8 && result.deleted == 8)
            let verified = try await service.verify(tenantID: tenant.id, checkpoints: [stored])
            #expect(verified.ok && verified.checkpointsChecked == 1, "\(String(describing: verified.failure))")

            let unseen = try AuditCheckpoint.sign(
                tenantID: tenant.id, sequence: 3, headHash: [UInt8](repeating: 7, count: 32), time: 1, key: Curve25519.Signing.PrivateKey())
            let failed = try await service.verify(tenantID: tenant.id, checkpoints: [stored, unseen])
            #expect(!failed.ok && failed.failure?.sequence == 3)
        }
    }

    /// Plain inserts into the anchor and checkpoint tables are refused like updates and deletes.
    @Test(arguments: StorageEngine.available, ["audit_anchors", "audit_checkpoints"])
    func anchorAndCheckpointInsertsAreGuarded(engine: StorageEngine, table: String) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (_, tenant) = try await Self.auditSetUp(storage, entries: 2)
            let sql =
                table == "audit_anchors"
                ? "INSERT INTO audit_anchors (tenant_id, sequence, hash, created_at) VALUES ($1, 1, $2, 1)"
                : "INSERT INTO audit_checkpoints (tenant_id, sequence, head_hash, created_at, signature, public_key) VALUES ($1, 1, $2, 1, $2, $2)"
            // The database's own trigger refuses it (not a constraint or type error that would hide a missing guard).
            let refused = await #expect(throws: (any Error).self) { try await storage.owner.query(sql, [.text(tenant.id), .blob([1])]) }
            let reason = String(describing: refused)  // PostgreSQL carries the trigger's text; SQLite names a trigger failure
            #expect(reason.contains("append-only") || reason.contains("constraintTriggerFailed"), "\(reason)")
            let count = try await storage.owner.query("SELECT COUNT(*) AS n FROM \(table)", []).first?.int("n")
            #expect(count == 0)
        }
    }

    enum Column: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case operation, actorID = "actor_id", status, requestID = "request_id", createdAt = "created_at"
        var testDescription: String { rawValue }
        var edit: String {
            switch self {
            case .operation: "operation = 'kv.list'"
            case .actorID: "actor_id = 'someone-else'"
            case .status: "status = 500"
            case .requestID: "request_id = 'other'"
            case .createdAt: "created_at = 1"
            }
        }
    }

    /// The issue's reproduction: `UPDATE audit_entries SET operation='kv.list' WHERE operation='kv.read'` used
    /// to leave verify at OK while the filtered query returned nothing.
    @Test(arguments: StorageEngine.available, Column.allCases)
    func anEditedIndexColumnIsDetectedByVerifyAndQueries(engine: StorageEngine, column: Column) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (service, tenant) = try await Self.auditSetUp(storage, entries: 4)
            #expect(try await service.query(tenantID: tenant.id, AuditQuery(operation: "kv.write")).count == 4)
            try await AuditConformanceTests.tamper(
                storage, [("UPDATE audit_entries SET \(column.edit) WHERE tenant_id = $1 AND sequence = 3", [.text(tenant.id)])])
            let verified = try await service.verify(tenantID: tenant.id)
            #expect(!verified.ok && verified.failure?.sequence == 3)
            #expect(verified.failure?.reason.contains(column.rawValue) == true, "\(String(describing: verified.failure))")
            let query = await #expect(throws: CofferError.self) {
                _ = try await service.query(tenantID: tenant.id, AuditQuery(operation: "kv.write"))
            }
            #expect(query?.code == .storageCorrupt && query?.message.contains("sequence 3") == true)
        }
    }

    // MARK: - Values Coffer does not know

    enum Unknown: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case role, environment, apiKeyKind, boolean, scopesJSON
        var testDescription: String { rawValue }
    }

    /// A stored role that is not one of the four used to read as `viewer`, an unknown environment as
    /// `development`: each is now `STORAGE_CORRUPT`.
    @Test(arguments: StorageEngine.available, Unknown.allCases)
    func unknownStoredValuesFailClosed(engine: StorageEngine, unknown: Unknown) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("fc")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let token = TokenRecord(
                accessor: "acc", tenantID: tenant.id, hash: [9, 9], role: .viewer, displayName: "t", createdAt: 1, expiresAt: nil,
                parentAccessor: nil,
                ttlSeconds: 0)
            try await storage.tokens.insertToken(token)
            let record = APIKeyRecord(
                id: "key_x", tenantID: tenant.id, hash: [8, 8], displayPrefix: "sk_test_x", kind: .test, name: "n", scopes: ["kv:read"],
                createdAt: 1)
            try await storage.apiKeys.insert(record)
            let db = storage.owner
            let load: () async throws -> Void
            switch unknown {
            case .role:
                try await db.query("UPDATE tokens SET role = 'superuser'", [])
                load = { _ = try await storage.tokens.token(accessor: "acc", tenantID: tenant.id) }
            case .environment:
                try await db.query("UPDATE tenants SET environment = 'prod'", [])
                load = { _ = try await storage.tenants.tenant(named: "fc") }
            case .apiKeyKind:
                try await db.query("UPDATE api_keys SET kind = 'root'", [])
                load = { _ = try await storage.apiKeys.key(id: "key_x", tenantID: tenant.id) }
            case .boolean:
                try await db.query("UPDATE tenants SET is_system = 7", [])
                load = { _ = try await storage.tenants.tenant(named: "fc") }
            case .scopesJSON:
                try await db.query("UPDATE api_keys SET scopes_json = 'kv:*'", [])
                load = { _ = try await storage.apiKeys.key(id: "key_x", tenantID: tenant.id) }
            }
            let error = await #expect(throws: CofferError.self) { try await load() }
            #expect(error?.code == .storageCorrupt)
        }
    }
}

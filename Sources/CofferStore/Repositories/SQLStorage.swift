import CofferCore
import Foundation
import Logging
import Synchronization

/// Coffer's storage on a SQL database: SQLite or PostgreSQL, same queries, per-engine migrations.
public final class SQLStorage: CofferStorage {
    /// The database, without audit hooks (for maintenance and tests).
    public let database: any SQLDatabase
    /// Tenants.
    public let tenants: any TenantStore
    /// Keyring.
    public let keyring: any KeyringStore
    /// Tokens.
    public let tokens: any TokenStore
    /// KV secrets.
    public let secrets: any SecretStore
    /// Audit chains.
    public let audit: any AuditStore
    /// API keys.
    public let apiKeys: any APIKeyStore
    /// Transit keys and protection policies.
    public let transit: any TransitStore
    /// Gateway projects.
    public let gateway: any GatewayStore
    /// Secrets-engine mounts.
    public let mounts: any MountStore
    /// Wrapped responses.
    public let wrapping: any WrappingStore
    /// Auth methods, their users and roles, secret IDs and lockouts.
    public let identity: any IdentityStore
    /// Alerts and alert settings.
    public let alerts: any AlertStore
    /// Re-encryption jobs and rotation policies.
    public let keyringJobs: any KeyringJobStore
    /// Rate-limit counters: in memory for SQLite (one instance), a shared table on PostgreSQL.
    public let rateLimits: any RateLimiterBackend
    /// Whether several instances may share this storage (PostgreSQL); if not, hot records are cached in memory.
    public let isShared: Bool
    let caches: StorageCaches?
    /// On PostgreSQL, the listener that drops the caches when another instance writes.
    let changeListener: Task<Void, Never>?
    /// Callers' caches to drop with the storage's own.
    let changeHandlers = ChangeHandlers()

    /// Registers a cache to drop on other instances' changes.
    public func onExternalChange(_ handler: @escaping @Sendable () -> Void) { changeHandlers.add(handler) }

    /// How long a cached record is trusted on shared storage if a change notification is missed.
    public static let sharedCacheMaxAge: Duration = .seconds(1)

    /// Drops every cached record, for maintenance that wrote to the database directly (and tests doing so).
    public func invalidateCaches() {
        caches?.invalidateAll()
    }

    /// Wraps a migrated database. Every write takes an explicit ``UnitOfWork`` whose entry it appends in its own transaction.
    /// Hot records are cached (up to `apiKeyCacheEntries` API keys); on PostgreSQL every other instance's
    /// write drops the caches (`LISTEN/NOTIFY`) and no entry is trusted longer than ``sharedCacheMaxAge``.
    ///
    /// With `listenForChanges` false (a pooler such as PgBouncer in transaction mode, where `LISTEN`
    /// cannot work), other instances' changes reach the caches only through ``sharedCacheMaxAge``.
    public init(
        database: any SQLDatabase, clock: any CofferClock = SystemClock(), apiKeyCacheEntries: Int = 50_000, listenForChanges: Bool = true,
        cacheMaxAge: Duration = SQLStorage.sharedCacheMaxAge
    ) {
        self.database = database
        let audited = WorkDatabase(db: database, clock: clock)
        isShared = database.dialect == .postgres
        let built = StorageCaches(apiKeyCapacity: apiKeyCacheEntries, maxAge: isShared ? cacheMaxAge : nil)
        let caches: StorageCaches? = built
        self.caches = caches
        let handlers = changeHandlers
        self.changeListener =
            !listenForChanges
            ? nil
            : database.watchChanges { payload in
                let kinds = CacheKind.parse(payload)
                built.invalidate(kinds)
                // Callers' caches (transit keys) on a change naming them, or anything unknown.
                if kinds?.contains(.transit) ?? true { handlers.runAll() }
            }
        self.tenants = SQLTenantStore(db: audited.notifying(.tenants), cache: caches?.tenants)
        self.keyring = SQLKeyringStore(db: audited.notifying(.tenants), tenantCache: caches?.tenants)
        self.tokens = SQLTokenStore(db: audited.notifying(.tokens), cache: caches?.tokens)
        self.secrets = SQLSecretStore(db: audited.notifying(.kv), metadataCache: caches?.kvMetadata, versionsCache: caches?.kvVersions)
        self.audit = SQLAuditStore(db: database)
        self.apiKeys = SQLAPIKeyStore(db: audited.notifying(.apiKeys), cache: caches?.apiKeys)
        self.transit = SQLTransitStore(db: audited.notifying(.transit))
        self.gateway = SQLGatewayStore(
            db: audited.notifying(.gateway), projectCache: caches?.gatewayProjects, suspensionCache: caches?.gatewaySuspensions)
        self.rateLimits = isShared ? LeasedRateLimiter(backend: SQLRateLimiter(db: database)) : MemoryRateLimiter()
        var kvCaches: [@Sendable () -> Void] = []
        if let caches {
            kvCaches = [{ caches.kvMetadata.invalidateAll() }, { caches.kvVersions.invalidateAll() }]
        }
        self.mounts = SQLMountStore(db: audited.notifying(.mounts), cache: caches?.mounts, kvCaches: kvCaches)
        self.wrapping = SQLWrappingStore(db: audited.notifying(.wrapping))
        self.identity = SQLIdentityStore(
            db: audited.notifying(.identity), revoking: audited.notifying(.identity, .tokens), tokenCache: caches?.tokens)
        self.alerts = SQLAlertStore(db: audited)
        self.keyringJobs = SQLKeyringJobStore(db: audited)
    }

    /// Opens storage from a URL: `sqlite:///path/to/file.db`, `sqlite::memory:`, or `postgres://…`; migrates it.
    ///
    /// On PostgreSQL, `migrationURL` (the schema owner's connection, used only for migrations and closed
    /// after them) lets `url` name an application role that may not change the schema; with
    /// `requireRowSecurity`, a role that could bypass Row-Level Security (superuser, `BYPASSRLS`, owner of
    /// the tables) is refused with `CONFIG_INVALID`.
    public static func open(
        url: String, clock: any CofferClock = SystemClock(), logger: Logger = Logger(label: "coffer.storage"), defaultKVMount: String = "secret",
        migrationURL: String? = nil, requireRowSecurity: Bool = false, listenForChanges: Bool = true
    ) async throws -> SQLStorage {
        let database: any SQLDatabase
        let context = Migrations.Context(defaultKVMount: defaultKVMount)
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            if let migrationURL, !migrationURL.isEmpty {
                let owner = try await CofferPostgresDatabase.connect(url: migrationURL, logger: logger)
                do {
                    try await Migrations.migrate(owner, context: context)
                    try await owner.close()
                } catch {
                    try? await owner.close()
                    throw error
                }
            }
            let postgres = try await CofferPostgresDatabase.connect(url: url, logger: logger)
            do {
                try await Migrations.migrate(postgres, context: context)
                let status = try await postgres.rowSecurityStatus()
                if requireRowSecurity, let refusal = status.refusal { throw CofferError(.configInvalid, refusal) }
                if status.canBypass {
                    logger.warning("the database role can bypass Row-Level Security; tenant isolation rests on Coffer's own filters alone")
                }
            } catch {
                try? await postgres.close()
                throw error
            }
            return SQLStorage(database: postgres, clock: clock, listenForChanges: listenForChanges)
        } else if url == "sqlite::memory:" {
            database = try await CofferSQLiteDatabase.open(path: ":memory:", logger: logger)
        } else if url.hasPrefix("sqlite://") {
            database = try await CofferSQLiteDatabase.open(path: String(url.dropFirst("sqlite://".count)), logger: logger)
        } else {
            throw CofferError(.configInvalid, "storage URL must start with sqlite:// or postgres://")
        }
        try await Migrations.migrate(database, context: context)
        return SQLStorage(database: database, clock: clock)
    }

    /// Closes the database.
    public func shutdown() async throws {
        changeListener?.cancel()
        try await database.close()
    }

    /// The advisory-lock key of background-job leadership.
    static let jobsLockKey: Int64 = 7_230_502

    /// Runs `body` while this instance holds the background-job lock.
    public func whileLeading(_ body: @Sendable (_ stillLeading: @escaping @Sendable () async -> Bool) async throws -> Void) async throws -> Bool {
        try await database.whileHoldingLock(Self.jobsLockKey, body)
    }
}

/// The callbacks run when another instance may have changed stored data.
final class ChangeHandlers: Sendable {
    private let handlers = Mutex<[@Sendable () -> Void]>([])

    func add(_ handler: @escaping @Sendable () -> Void) { handlers.withLock { $0.append(handler) } }

    func runAll() { for handler in handlers.withLock({ $0 }) { handler() } }
}

/// Refuses keys wrapped by a root version other than the active one (a server still running on a rotated-out key).
enum RootVersionGuard {
    static func check(_ tx: any SQLExecutor, rootVersion: Int) async throws {
        let active = try await tx.query("SELECT version FROM root_keys WHERE active = 1", [])
        if let version = try active.first?.int("version"), version != Int64(rootVersion) {
            throw CofferError(.keyVersionUnknown, "the root key was rotated: restart this server with the new root key")
        }
    }
}

struct SQLTenantStore: TenantStore {
    let db: WorkDatabase
    let cache: RecordCache<String, Tenant>?
    static let systemKey = "\u{0}system"

    func createTenant(_ tenant: Tenant, firstKey: WrappedDataKey, state: KeyringState?, in work: UnitOfWork) async throws {
        do {
            try await db.transaction(work, in: .tenant(tenant.id)) { tx in
                try await RootVersionGuard.check(tx, rootVersion: firstKey.rootVersion)
                try await tx.query(
                    "INSERT INTO tenants (id, name, environment, active_key_version, is_system, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    [
                        .text(tenant.id), .text(tenant.name), .text(tenant.environment.rawValue), .int(Int64(tenant.activeKeyVersion)),
                        .bool(tenant.isSystem), .int(tenant.createdAt),
                    ])
                try await tx.query(
                    "INSERT INTO data_keys (tenant_id, version, root_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
                    [
                        .text(firstKey.tenantID), .int(Int64(firstKey.version)), .int(Int64(firstKey.rootVersion)), .blob(firstKey.wrapped),
                        .int(firstKey.createdAt),
                    ])
                if let state { try await KeyringStateRows.save(state, expectedGeneration: nil, in: tx) }
            }
        } catch is StorageConstraintError {
            throw CofferError(.tenantExists, "a tenant with this name already exists")
        }
    }

    func tenant(id: String) async throws -> Tenant? {
        guard let cache else { return try await db.unscopedQuery("SELECT * FROM tenants WHERE id = $1", [.text(id)]).first.map(Self.decode) }
        return try await cache.load(id) { try await db.unscopedQuery("SELECT * FROM tenants WHERE id = $1", [.text(id)]).first.map(Self.decode) }
    }

    func tenant(named name: String) async throws -> Tenant? {
        try await db.unscopedQuery("SELECT * FROM tenants WHERE name = $1", [.text(name)]).first.map(Self.decode)
    }

    func listTenants() async throws -> [Tenant] {
        try await db.unscopedQuery("SELECT * FROM tenants ORDER BY name", []).map(Self.decode)
    }

    func systemTenant() async throws -> Tenant? {
        let load = { try await db.unscopedQuery("SELECT * FROM tenants WHERE is_system = 1 LIMIT 1", []).first.map(Self.decode) }
        guard let cache else { return try await load() }
        return try await cache.load(Self.systemKey, load)
    }

    static func decode(_ row: SQLRow) throws -> Tenant {
        Tenant(
            id: try row.text("id"), name: try row.text("name"),
            environment: try row.known("environment", as: TenantEnvironment.self),
            activeKeyVersion: Int(try row.int("active_key_version")), isSystem: try row.bool("is_system"),
            createdAt: try row.int("created_at"))
    }
}

struct SQLKeyringStore: KeyringStore {
    let db: WorkDatabase
    /// Invalidated after changes of a tenant's active data key.
    let tenantCache: RecordCache<String, Tenant>?

    func rootKeyRecords() async throws -> [RootKeyRecord] {
        try await db.unscopedQuery("SELECT * FROM root_keys ORDER BY version", []).map { row in
            RootKeyRecord(
                version: Int(try row.int("version")), check: try row.blob("check_blob"), kdfJSON: try row.optionalText("kdf_json"),
                active: try row.bool("active"), createdAt: try row.int("created_at"))
        }
    }

    /// Records `record` as the only active root-key version.
    static func activate(_ record: RootKeyRecord, in tx: any SQLExecutor) async throws {
        try await tx.query("UPDATE root_keys SET active = 0", [])
        try await tx.query(
            "INSERT INTO root_keys (version, check_blob, kdf_json, active, created_at) VALUES ($1, $2, $3, 1, $4)",
            [.int(Int64(record.version)), .blob(record.check), .optional(record.kdfJSON), .int(record.createdAt)])
    }

    func installRootKey(_ record: RootKeyRecord, systemKeys: [String: [UInt8]]) async throws {
        try await db.transaction(in: .system) { tx in
            try await Self.activate(record, in: tx)
            for (name, wrapped) in systemKeys {
                try await tx.query("DELETE FROM system_keys WHERE name = $1", [.text(name)])
                try await tx.query(
                    "INSERT INTO system_keys (name, root_version, wrapped) VALUES ($1, $2, $3)",
                    [.text(name), .int(Int64(record.version)), .blob(wrapped)])
            }
        }
    }

    func rotateRootKey(_ record: RootKeyRecord, systemKeys: [String: [UInt8]], dataKeys: [WrappedDataKey], states: [KeyringState]) async throws {
        // Every tenant's data keys are re-wrapped at once: the system role's work (an operator's, offline: no deadline).
        try await db.transaction(in: .system, within: nil) { tx in
            for state in states { try await KeyringStateRows.save(state, expectedGeneration: state.generation - 1, in: tx) }
            try await Self.activate(record, in: tx)
            for (name, wrapped) in systemKeys {
                try await tx.query(
                    "UPDATE system_keys SET root_version = $1, wrapped = $2 WHERE name = $3",
                    [.int(Int64(record.version)), .blob(wrapped), .text(name)])
            }
            for key in dataKeys {
                try await tx.query(
                    "UPDATE data_keys SET root_version = $1, wrapped = $2 WHERE tenant_id = $3 AND version = $4",
                    [.int(Int64(key.rootVersion)), .blob(key.wrapped), .text(key.tenantID), .int(Int64(key.version))])
            }
            let stale = try await tx.query("SELECT COUNT(*) AS n FROM data_keys WHERE root_version <> $1", [.int(Int64(record.version))])
            guard try stale.first?.int("n") == 0 else {
                throw CofferError(.keyVersionUnknown, "a data key was added during root rotation; nothing was changed, run it again")
            }
        }
    }

    func allDataKeys() async throws -> [WrappedDataKey] {
        try await db.query(in: .system, "SELECT * FROM data_keys ORDER BY tenant_id, version", []).map(Self.decodeDataKey)
    }

    static func decodeDataKey(_ row: SQLRow) throws -> WrappedDataKey {
        WrappedDataKey(
            tenantID: try row.text("tenant_id"), version: Int(try row.int("version")), rootVersion: Int(try row.int("root_version")),
            wrapped: try row.blob("wrapped"), createdAt: try row.int("created_at"))
    }

    func insertSystemKeyIfAbsent(name: String, rootVersion: Int, wrapped: [UInt8]) async throws {
        try await db.unscopedQuery(
            "INSERT INTO system_keys (name, root_version, wrapped) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            [.text(name), .int(Int64(rootVersion)), .blob(wrapped)])
    }

    func systemKeyNames() async throws -> [String] {
        try await db.unscopedQuery("SELECT name FROM system_keys ORDER BY name", []).map { try $0.text("name") }
    }

    func systemKey(named name: String) async throws -> (rootVersion: Int, wrapped: [UInt8])? {
        guard let row = try await db.unscopedQuery("SELECT root_version, wrapped FROM system_keys WHERE name = $1", [.text(name)]).first else {
            return nil
        }
        return (Int(try row.int("root_version")), try row.blob("wrapped"))
    }

    func dataKeys(tenantID: String) async throws -> [WrappedDataKey] {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM data_keys WHERE tenant_id = $1 ORDER BY version", [.text(tenantID)]).map(
            Self.decodeDataKey)
    }

    func addDataKey(_ key: WrappedDataKey, state: KeyringState?, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(key.tenantID)) { tx in
            try await RootVersionGuard.check(tx, rootVersion: key.rootVersion)
            if let state { try await KeyringStateRows.save(state, expectedGeneration: state.generation - 1, in: tx) }
            try await tx.query(
                "INSERT INTO data_keys (tenant_id, version, root_version, wrapped, created_at) VALUES ($1, $2, $3, $4, $5)",
                [.text(key.tenantID), .int(Int64(key.version)), .int(Int64(key.rootVersion)), .blob(key.wrapped), .int(key.createdAt)])
            try await tx.query("UPDATE tenants SET active_key_version = $1 WHERE id = $2", [.int(Int64(key.version)), .text(key.tenantID)])
        }
        tenantCache?.invalidateAll()
    }

    func setActiveDataKey(tenantID: String, version: Int, state: KeyringState?, in work: UnitOfWork) async throws {
        defer { tenantCache?.invalidateAll() }
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            if let state { try await KeyringStateRows.save(state, expectedGeneration: state.generation - 1, in: tx) }
            try await tx.query("UPDATE tenants SET active_key_version = $1 WHERE id = $2", [.int(Int64(version)), .text(tenantID)])
        }
    }

    func keyringStates() async throws -> [KeyringState] {
        try await db.query(in: .system, "SELECT * FROM keyring_state ORDER BY tenant_id", []).map(KeyringStateRows.decode)
    }

    func keyringStatesAdopted() async throws -> Bool {
        guard let row = try await db.unscopedQuery("SELECT adopted FROM keyring_meta WHERE id = 1", []).first else {
            // Migration 6 writes this row; without it the store was tampered with: nothing is trusted.
            throw CofferError(.keyringInvalid, "the keyring's bookkeeping row is missing")
        }
        return try row.bool("adopted")
    }

    func adoptKeyringStates(_ states: [KeyringState]) async throws {
        try await db.transaction(in: .system) { tx in
            let updated = try await tx.query("UPDATE keyring_meta SET adopted = 1 WHERE id = 1 AND adopted = 0 RETURNING id", [])
            guard !updated.isEmpty else { return }
            for state in states { try await KeyringStateRows.save(state, expectedGeneration: nil, in: tx) }
        }
    }

    /// Transit keys, managed gateway keys and wrapped responses record their key version only in the
    /// sealed header, so their (few) blobs are read; KV versions and assets by column.
    func keyVersionUsage(tenantID: String, version: Int, limit: Int) async throws -> KeyVersionUsage {
        let key: [SQLValue] = [.text(tenantID), .int(Int64(version))]
        let count =
            try await db.query(
                in: .tenant(tenantID),
                "SELECT COUNT(*) AS n FROM kv_versions WHERE tenant_id = $1 AND key_version = $2 AND destroyed = 0 AND blob IS NOT NULL",
                key
            ).first?.int("n") ?? 0
        let sample = try await db.query(
            in: .tenant(tenantID),
            """
            SELECT mount, path, version FROM kv_versions WHERE tenant_id = $1 AND key_version = $2 AND destroyed = 0 AND blob IS NOT NULL
            ORDER BY mount, path, version LIMIT $3
            """, key + [.int(Int64(limit))]
        ).map { KVCursor(mount: try $0.text("mount"), path: try $0.text("path"), version: Int(try $0.int("version"))) }
        let assets = try await db.query(
            in: .tenant(tenantID), "SELECT project, name FROM gateway_assets WHERE tenant_id = $1 AND key_version = $2 ORDER BY project, name", key
        ).map { try $0.text("project") + "/" + $0.text("name") }
        func sealedUnder(_ sql: String, _ name: String) async throws -> [String] {
            try await db.query(in: .tenant(tenantID), sql, [.text(tenantID)]).compactMap { row in
                SealedBox.keyVersion(of: try row.blob("sealed")) == version ? try row.text(name) : nil
            }
        }
        return KeyVersionUsage(
            kvVersions: Int(count), kvSample: sample,
            transitKeys: try await sealedUnder("SELECT name, sealed FROM transit_keys WHERE tenant_id = $1 ORDER BY name", "name"),
            assets: assets,
            managedKeys: try await sealedUnder("SELECT project, sealed FROM gateway_managed_keys WHERE tenant_id = $1 ORDER BY project", "project"),
            wrappedResponses: try await sealedUnder("SELECT accessor, sealed FROM wrapped_responses WHERE tenant_id = $1", "accessor").count)
    }

    func removeDataKey(tenantID: String, version: Int, state: KeyringState, in work: UnitOfWork) async throws -> Bool {
        defer { tenantCache?.invalidateAll() }
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            let key: [SQLValue] = [.text(tenantID), .int(Int64(version))]
            let used = try await tx.query(
                """
                SELECT 1 AS used FROM kv_versions WHERE tenant_id = $1 AND key_version = $2 AND destroyed = 0 AND blob IS NOT NULL
                UNION ALL SELECT 1 AS used FROM gateway_assets WHERE tenant_id = $1 AND key_version = $2
                UNION ALL SELECT 1 AS used FROM tenants WHERE id = $1 AND active_key_version = $2
                """, key)
            // Still used: nothing changes and nothing is recorded.
            guard used.isEmpty else {
                work.disable()
                return false
            }
            for (table, column) in [("transit_keys", "name"), ("gateway_managed_keys", "project"), ("wrapped_responses", "accessor")] {
                for row in try await tx.query("SELECT \(column), sealed FROM \(table) WHERE tenant_id = $1", [.text(tenantID)]) {
                    if SealedBox.keyVersion(of: try row.blob("sealed")) == version {
                        work.disable()
                        return false
                    }
                }
            }
            try await KeyringStateRows.save(state, expectedGeneration: state.generation - 1, in: tx)
            try await tx.query("DELETE FROM data_keys WHERE tenant_id = $1 AND version = $2", key)
            return true
        }
    }

    func referencedKeyVersions() async throws -> [String: Set<Int>] {
        var found: [String: Set<Int>] = [:]
        for row in try await db.query(in: .system, "SELECT DISTINCT tenant_id, key_version FROM kv_versions WHERE blob IS NOT NULL", []) {
            found[try row.text("tenant_id"), default: []].insert(Int(try row.int("key_version")))
        }
        for row in try await db.query(in: .system, "SELECT tenant_id, sealed FROM transit_keys", []) {
            guard let version = SealedBox.keyVersion(of: try row.blob("sealed")) else {
                throw CofferError(.storageCorrupt, "a stored transit key has no readable header")
            }
            found[try row.text("tenant_id"), default: []].insert(version)
        }
        return found
    }
}

/// Reads and writes `keyring_state` rows. A write names the generation it follows, so two instances
/// changing one tenant's keyring at once cannot both succeed.
enum KeyringStateRows {
    static func save(_ state: KeyringState, expectedGeneration: Int64?, in tx: any SQLExecutor) async throws {
        let digests = state.digests.keys.sorted().map { "\($0):\(state.digests[$0]?.hexString ?? "")" }.joined(separator: ",")
        let values: [SQLValue] = [
            .text(state.tenantID), .int(state.generation), .int(Int64(state.activeVersion)), .int(Int64(state.highestVersion)), .text(digests),
            .blob(state.mac),
        ]
        guard let expectedGeneration, expectedGeneration > 0 else {
            try await tx.query(
                "INSERT INTO keyring_state (tenant_id, generation, active_version, highest_version, digests, mac) VALUES ($1, $2, $3, $4, $5, $6)",
                values)
            return
        }
        let updated = try await tx.query(
            """
            UPDATE keyring_state SET generation = $2, active_version = $3, highest_version = $4, digests = $5, mac = $6
            WHERE tenant_id = $1 AND generation = $7 RETURNING tenant_id
            """, values + [.int(expectedGeneration)])
        guard !updated.isEmpty else {
            throw CofferError(.keyringInvalid, "the keyring changed while this change was prepared; nothing was changed, run it again")
        }
    }

    static func decode(_ row: SQLRow) throws -> KeyringState {
        var digests: [Int: [UInt8]] = [:]
        for item in try row.text("digests").split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let version = Int(parts[0]), let digest = [UInt8](hex: String(parts[1])) else {
                throw CofferError(.storageCorrupt, "a keyring state lists a malformed data key")
            }
            digests[version] = digest
        }
        return KeyringState(
            tenantID: try row.text("tenant_id"), generation: try row.int("generation"), activeVersion: Int(try row.int("active_version")),
            highestVersion: Int(try row.int("highest_version")), digests: digests, mac: try row.blob("mac"))
    }
}

struct SQLTokenStore: TokenStore {
    let db: WorkDatabase
    let cache: RecordCache<[UInt8], TokenRecord>?

    func insertToken(_ token: TokenRecord, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(token.tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO tokens (accessor, tenant_id, hash, role, display_name, created_at, expires_at, revoked_at, parent_accessor, ttl_seconds,
                  renewable, max_expires_at, period_seconds, uses_left, meta, bound_cidrs, scopes, token_role, auth_mount, auth_role, auth_subject)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
                """,
                [
                    .text(token.accessor), .text(token.tenantID), .blob(token.hash), .text(token.role.rawValue), .text(token.displayName),
                    .int(token.createdAt), .optional(token.expiresAt), .optional(token.revokedAt), .optional(token.parentAccessor),
                    .int(token.ttlSeconds), .bool(token.renewable), .optional(token.maxExpiresAt), .int(token.periodSeconds),
                    .int(token.usesLeft),
                    .text(String(decoding: JSONValue.object(token.meta.mapValues { .string($0) }).canonicalBytes(), as: UTF8.self)),
                    .text(token.boundCIDRs.joined(separator: ",")), .optional(token.scopes.map { $0.map(\.description).joined(separator: " ") }),
                    .optional(token.roleName), .optional(token.origin?.mount), .optional(token.origin?.role),
                    .optional(token.origin?.subject),
                ])
        }
    }

    func token(hash: [UInt8]) async throws -> TokenRecord? {
        // By hash, before the tenant is known: the system role's lookup.
        let load = { try await db.query(in: .system, "SELECT * FROM tokens WHERE hash = $1", [.blob(hash)]).first.map(Self.decode) }
        guard let cache else { return try await load() }
        return try await cache.load(hash, load)
    }

    func tokensEnding(tenantID: String, now: Int64, before: Int64, limit: Int) async throws -> [TokenRecord] {
        try await db.query(
            in: .tenant(tenantID),
            """
            SELECT * FROM tokens WHERE tenant_id = $1 AND revoked_at IS NULL
              AND ((renewable = 0 AND expires_at > $2 AND expires_at <= $3) OR (max_expires_at > $2 AND max_expires_at <= $3))
            ORDER BY accessor LIMIT $4
            """, [.text(tenantID), .int(now), .int(before), .int(Int64(limit))]
        ).map(Self.decode)
    }

    func token(accessor: String, tenantID: String) async throws -> TokenRecord? {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM tokens WHERE accessor = $1 AND tenant_id = $2", [.text(accessor), .text(tenantID)])
            .first.map(Self.decode)
    }

    func revokeToken(accessor: String, tenantID: String, at time: Int64, in work: UnitOfWork) async throws -> [String] {
        defer { cache?.invalidateAll() }
        // The token and, transitively, every token it created (Vault: revoking a parent revokes its children).
        let rows = try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                WITH RECURSIVE tree(accessor) AS (
                  SELECT accessor FROM tokens WHERE accessor = $2 AND tenant_id = $3
                  UNION SELECT t.accessor FROM tokens t JOIN tree ON t.parent_accessor = tree.accessor WHERE t.tenant_id = $3)
                UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $3 AND revoked_at IS NULL AND accessor IN (SELECT accessor FROM tree)
                RETURNING accessor
                """,
                [.int(time), .text(accessor), .text(tenantID)])
        }
        return try rows.map { try $0.text("accessor") }
    }

    static func decode(_ row: SQLRow) throws -> TokenRecord {
        var record = TokenRecord(
            accessor: try row.text("accessor"), tenantID: try row.text("tenant_id"), hash: try row.blob("hash"),
            role: try row.known("role", as: Role.self), displayName: try row.text("display_name"),
            createdAt: try row.int("created_at"), expiresAt: try row.optionalInt("expires_at"), revokedAt: try row.optionalInt("revoked_at"),
            parentAccessor: try row.optionalText("parent_accessor"), ttlSeconds: try row.int("ttl_seconds"), renewable: try row.bool("renewable"),
            maxExpiresAt: try row.optionalInt("max_expires_at"))
        let corrupt = CofferError(.storageCorrupt, "a stored token is malformed")
        record.periodSeconds = try row.int("period_seconds")
        record.usesLeft = try row.int("uses_left")
        guard record.periodSeconds >= 0, record.usesLeft >= 0, let meta = JSONValue.parse(Array(try row.text("meta").utf8))?.objectValue else {
            throw corrupt
        }
        for (key, value) in meta {
            guard let text = value.stringValue else { throw corrupt }
            record.meta[key] = text
        }
        // Values that do not parse fail closed: a token whose binding or scopes cannot be read is unusable.
        let cidrs = try row.text("bound_cidrs").split(separator: ",").map(String.init)
        guard cidrs.allSatisfy({ CIDR($0) != nil }) else { throw corrupt }
        record.boundCIDRs = cidrs
        if let text = try row.optionalText("scopes") {
            let scopes = text.split(separator: " ").compactMap { Scope(String($0)) }
            guard scopes.count == text.split(separator: " ").count else { throw corrupt }
            record.scopes = scopes
        }
        record.roleName = try row.optionalText("token_role")
        if let mount = try row.optionalText("auth_mount") {
            guard let subject = try row.optionalText("auth_subject") else { throw corrupt }
            record.origin = LoginOrigin(mount: mount, role: try row.optionalText("auth_role"), subject: subject)
        }
        return record
    }

    func revokeTokenOrphaningChildren(accessor: String, tenantID: String, at time: Int64, in work: UnitOfWork) async throws -> [String] {
        defer { cache?.invalidateAll() }
        let rows = try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                "UPDATE tokens SET parent_accessor = NULL WHERE tenant_id = $1 AND parent_accessor = $2", [.text(tenantID), .text(accessor)])
            return try await tx.query(
                "UPDATE tokens SET revoked_at = $1 WHERE accessor = $2 AND tenant_id = $3 AND revoked_at IS NULL RETURNING accessor",
                [.int(time), .text(accessor), .text(tenantID)])
        }
        return try rows.map { try $0.text("accessor") }
    }

    func revokeSessions(
        tenantID: String, mount: String, role: String?, subject: String?, at time: Int64, in work: UnitOfWork
    ) async throws
        -> [String]
    {
        defer { cache?.invalidateAll() }
        // Each session is a root of its own (login tokens are orphans); the tokens it made go with it.
        let rows = try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                WITH RECURSIVE tree(accessor) AS (
                  SELECT accessor FROM tokens WHERE tenant_id = $2 AND auth_mount = $3 AND revoked_at IS NULL
                    AND (CAST($4 AS TEXT) IS NULL OR auth_role = $4) AND (CAST($5 AS TEXT) IS NULL OR auth_subject = $5)
                  UNION SELECT t.accessor FROM tokens t JOIN tree ON t.parent_accessor = tree.accessor WHERE t.tenant_id = $2)
                UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $2 AND revoked_at IS NULL AND accessor IN (SELECT accessor FROM tree)
                RETURNING accessor
                """,
                [.int(time), .text(tenantID), .text(mount), .optional(role), .optional(subject)])
        }
        return try rows.map { try $0.text("accessor") }
    }

    func consumeTokenUse(accessor: String, tenantID: String, at time: Int64) async throws -> Int64? {
        defer { cache?.invalidateAll() }
        let rows = try await db.query(
            in: .tenant(tenantID),
            """
            UPDATE tokens SET uses_left = uses_left - 1, revoked_at = CASE WHEN uses_left = 1 THEN $3 ELSE revoked_at END
            WHERE accessor = $1 AND tenant_id = $2 AND uses_left > 0 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
            RETURNING uses_left
            """, [.text(accessor), .text(tenantID), .int(time)])
        return try rows.first?.int("uses_left")
    }

    func putTokenRole(tenantID: String, name: String, document: JSONValue, in work: UnitOfWork) async throws {
        let text = String(decoding: document.canonicalBytes(), as: UTF8.self)
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO token_roles (tenant_id, name, document) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id, name) DO UPDATE SET document = excluded.document
                """, [.text(tenantID), .text(name), .text(text)])
        }
    }

    func tokenRole(tenantID: String, name: String) async throws -> JSONValue? {
        guard
            let row = try await db.query(
                in: .tenant(tenantID), "SELECT document FROM token_roles WHERE tenant_id = $1 AND name = $2", [.text(tenantID), .text(name)]
            ).first
        else { return nil }
        guard let document = JSONValue.parse(Array(try row.text("document").utf8)) else {
            throw CofferError(.storageCorrupt, "a stored token role is malformed")
        }
        return document
    }

    func tokenRoleNames(tenantID: String) async throws -> [String] {
        try await db.query(in: .tenant(tenantID), "SELECT name FROM token_roles WHERE tenant_id = $1 ORDER BY name", [.text(tenantID)]).map {
            try $0.text("name")
        }
    }

    func deleteTokenRole(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool {
        !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query("DELETE FROM token_roles WHERE tenant_id = $1 AND name = $2 RETURNING name", [.text(tenantID), .text(name)])
        }).isEmpty
    }

    func renewToken(accessor: String, tenantID: String, from expected: Int64?, to expiresAt: Int64, in work: UnitOfWork) async throws -> Bool {
        defer { cache?.invalidateAll() }
        return
            !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
                try await tx.query(
                    """
                    UPDATE tokens SET expires_at = $3 WHERE accessor = $1 AND tenant_id = $2 AND revoked_at IS NULL AND renewable = 1
                      AND expires_at = $4 RETURNING accessor
                    """, [.text(accessor), .text(tenantID), .int(expiresAt), .optional(expected)])
            }).isEmpty
    }
}

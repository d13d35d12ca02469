import CofferCore

/// Schema migrations, one ordered list per engine. Applied in a transaction each, recorded in
/// `schema_migrations`; on PostgreSQL an advisory lock keeps concurrent instances from racing.
public enum Migrations {
    /// A numbered migration: statements for each engine.
    struct Migration {
        let version: Int
        let sqlite: [String]
        let postgres: [String]
        /// A data step run after the statements, in the same transaction.
        var data: (@Sendable (any SQLExecutor, Context) async throws -> Void)? = nil
    }

    /// What data steps need to know about the deployment.
    public struct Context: Sendable {
        /// The configured default KV mount (`kv_mount`).
        public var defaultKVMount: String

        /// Creates a context.
        public init(defaultKVMount: String = "secret") { self.defaultKVMount = defaultKVMount }
    }

    static let all: [Migration] = [
        Migration(
            version: 1,
            sqlite: [
                """
                CREATE TABLE root_keys (version INTEGER PRIMARY KEY, check_blob BLOB NOT NULL, kdf_json TEXT,
                  active INTEGER NOT NULL, created_at INTEGER NOT NULL)
                """,
                "CREATE TABLE system_keys (name TEXT PRIMARY KEY, root_version INTEGER NOT NULL, wrapped BLOB NOT NULL)",
                """
                CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, environment TEXT NOT NULL,
                  active_key_version INTEGER NOT NULL, is_system INTEGER NOT NULL, created_at INTEGER NOT NULL)
                """,
                """
                CREATE TABLE data_keys (tenant_id TEXT NOT NULL REFERENCES tenants(id), version INTEGER NOT NULL,
                  root_version INTEGER NOT NULL, wrapped BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, version))
                """,
                """
                CREATE TABLE tokens (accessor TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  hash BLOB NOT NULL UNIQUE, role TEXT NOT NULL, display_name TEXT NOT NULL, created_at INTEGER NOT NULL,
                  expires_at INTEGER, revoked_at INTEGER, parent_accessor TEXT, ttl_seconds INTEGER NOT NULL)
                """,
                """
                CREATE TABLE kv_metadata (tenant_id TEXT NOT NULL REFERENCES tenants(id), mount TEXT NOT NULL, path TEXT NOT NULL,
                  current_version INTEGER NOT NULL, oldest_version INTEGER NOT NULL, max_versions INTEGER NOT NULL,
                  cas_required INTEGER NOT NULL, delete_version_after INTEGER NOT NULL, custom_metadata TEXT NOT NULL,
                  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (tenant_id, mount, path))
                """,
                """
                CREATE TABLE kv_versions (tenant_id TEXT NOT NULL, mount TEXT NOT NULL, path TEXT NOT NULL, version INTEGER NOT NULL,
                  created_at INTEGER NOT NULL, deleted_at INTEGER, destroyed INTEGER NOT NULL, blob BLOB, key_version INTEGER NOT NULL,
                  references_json TEXT NOT NULL, PRIMARY KEY (tenant_id, mount, path, version),
                  FOREIGN KEY (tenant_id, mount, path) REFERENCES kv_metadata(tenant_id, mount, path) ON DELETE CASCADE)
                """,
                "CREATE INDEX kv_versions_key_version ON kv_versions (tenant_id, key_version)",
            ],
            postgres: [
                """
                CREATE TABLE root_keys (version BIGINT PRIMARY KEY, check_blob BYTEA NOT NULL, kdf_json TEXT,
                  active BIGINT NOT NULL, created_at BIGINT NOT NULL)
                """,
                "CREATE TABLE system_keys (name TEXT PRIMARY KEY, root_version BIGINT NOT NULL, wrapped BYTEA NOT NULL)",
                """
                CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, environment TEXT NOT NULL,
                  active_key_version BIGINT NOT NULL, is_system BIGINT NOT NULL, created_at BIGINT NOT NULL)
                """,
                """
                CREATE TABLE data_keys (tenant_id TEXT NOT NULL REFERENCES tenants(id), version BIGINT NOT NULL,
                  root_version BIGINT NOT NULL, wrapped BYTEA NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, version))
                """,
                """
                CREATE TABLE tokens (accessor TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
                  hash BYTEA NOT NULL UNIQUE, role TEXT NOT NULL, display_name TEXT NOT NULL, created_at BIGINT NOT NULL,
                  expires_at BIGINT, revoked_at BIGINT, parent_accessor TEXT, ttl_seconds BIGINT NOT NULL)
                """,
                """
                CREATE TABLE kv_metadata (tenant_id TEXT NOT NULL REFERENCES tenants(id), mount TEXT NOT NULL, path TEXT NOT NULL,
                  current_version BIGINT NOT NULL, oldest_version BIGINT NOT NULL, max_versions BIGINT NOT NULL,
                  cas_required BIGINT NOT NULL, delete_version_after BIGINT NOT NULL, custom_metadata TEXT NOT NULL,
                  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (tenant_id, mount, path))
                """,
                """
                CREATE TABLE kv_versions (tenant_id TEXT NOT NULL, mount TEXT NOT NULL, path TEXT NOT NULL, version BIGINT NOT NULL,
                  created_at BIGINT NOT NULL, deleted_at BIGINT, destroyed BIGINT NOT NULL, blob BYTEA, key_version BIGINT NOT NULL,
                  references_json TEXT NOT NULL, PRIMARY KEY (tenant_id, mount, path, version),
                  FOREIGN KEY (tenant_id, mount, path) REFERENCES kv_metadata(tenant_id, mount, path) ON DELETE CASCADE)
                """,
                "CREATE INDEX kv_versions_key_version ON kv_versions (tenant_id, key_version)",
            ]
        ),
        AuditSchema.migration,
        APIKeySchema.migration,
        RateLimitSchema.migration,
        TransitSchema.migration,
        IntegritySchema.migration,
        GatewaySchema.migration,
        GatewayNonceSchema.migration,
        GatewaySuspensionSchema.migration,
        GatewayAssetSchema.migration,
        TokenRenewalSchema.migration,
        TokenLifecycleSchema.migration,
        MountSchema.migration,
        WrappingSchema.migration,
        RowSecuritySchema.migration,
        IdentitySchema.migration,
        AlertSchema.migration,
        KeyringJobSchema.migration,
    ]

    /// Applies every migration the database has not seen yet. Returns the versions applied.
    @discardableResult
    public static func migrate(_ database: any SQLDatabase, context: Context = Context()) async throws -> [Int] {
        let known = all.map(\.version).max() ?? 0
        // A current schema needs nothing but a read, so a role that may not change the schema (the
        // application role under Row-Level Security) starts against a database its owner migrated.
        if database.dialect == .postgres,
            try await database.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", []).first?.bool("present") == true
        {
            let row = try await database.query("SELECT MAX(version) AS newest, COUNT(*) AS applied FROM schema_migrations", []).first
            let newest = try row?.optionalInt("newest") ?? 0
            try refuseNewer(newest, known: known)
            if newest == known, try row?.int("applied") == Int64(all.count) { return [] }
        }
        let createTable =
            database.dialect == .postgres
            ? "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)"
            : "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"
        if database.dialect == .postgres {
            // Concurrent instances: serialise on an advisory lock before creating the table.
            try await database.transaction(within: nil) { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(7230501) AS locked", [])
                try await tx.query(createTable, [])
            }
        } else {
            try await database.query(createTable, [])
        }
        var applied: [Int] = []
        for migration in all {
            let didApply = try await database.transaction(within: nil) { tx -> Bool in
                if database.dialect == .postgres {
                    try await tx.query("SELECT pg_advisory_xact_lock(7230501) AS locked", [])
                }
                let seen = try await tx.query("SELECT version FROM schema_migrations WHERE version = $1", [.int(Int64(migration.version))])
                guard seen.isEmpty else { return false }
                for statement in database.dialect == .postgres ? migration.postgres : migration.sqlite {
                    try await tx.query(statement, [])
                }
                if let data = migration.data {
                    // Once Row-Level Security is on, a data step sees every tenant's rows only as the system role.
                    if database.dialect == .postgres,
                        try await tx.query(
                            "SELECT EXISTS (SELECT 1 FROM pg_policies WHERE policyname = 'coffer_tenant_wall' AND schemaname = current_schema()) AS on",
                            []
                        ).first?.bool("on") == true
                    {
                        try await SQLScope.system.enter(on: tx, dialect: .postgres)
                    }
                    try await data(tx, context)
                }
                try await tx.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    [.int(Int64(migration.version)), .int(SystemClock().nowMillis)])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        let newest = try await database.query("SELECT MAX(version) AS newest FROM schema_migrations", []).first?.optionalInt("newest") ?? 0
        try refuseNewer(newest, known: known)
        return applied
    }

    /// A database migrated by a newer Coffer is refused rather than used with a schema this one does not know.
    static func refuseNewer(_ newest: Int64, known: Int) throws {
        guard newest <= known else {
            throw CofferError(
                .storageCorrupt,
                "the database schema is at version \(newest), newer than this coffer knows (\(known)); run the newer coffer, or restore the backup taken before the upgrade"
            )
        }
    }
}

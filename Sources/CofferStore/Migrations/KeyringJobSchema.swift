/// Migration 18: background re-encryption jobs (at most one running per tenant, enforced by a partial
/// unique index) and each tenant's data-key rotation policy. On PostgreSQL both tables get the tenant
/// wall of migration 15.
enum KeyringJobSchema {
    static let tenantTables = ["keyring_jobs", "keyring_policies"]

    static func statements(int: String) -> [String] {
        [
            """
            CREATE TABLE keyring_jobs (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), state TEXT NOT NULL,
              started_by TEXT NOT NULL, target_version \(int) NOT NULL, batch_size \(int) NOT NULL, concurrency \(int) NOT NULL,
              rows_per_second \(int) NOT NULL, total \(int) NOT NULL, done \(int) NOT NULL, cursor_mount TEXT, cursor_path TEXT,
              cursor_version \(int), transit_resealed \(int) NOT NULL, assets_resealed \(int) NOT NULL, destroyed_versions TEXT NOT NULL,
              kept_versions TEXT NOT NULL, error TEXT, rate \(int) NOT NULL, created_at \(int) NOT NULL, updated_at \(int) NOT NULL,
              finished_at \(int))
            """,
            "CREATE UNIQUE INDEX keyring_jobs_one_running ON keyring_jobs (tenant_id) WHERE state = 'running'",
            "CREATE INDEX keyring_jobs_recent ON keyring_jobs (tenant_id, created_at)",
            """
            CREATE TABLE keyring_policies (tenant_id TEXT PRIMARY KEY REFERENCES tenants(id), schedule TEXT, auto_reencrypt \(int) NOT NULL,
              retain_old_keys \(int), batch_size \(int) NOT NULL, concurrency \(int) NOT NULL, rows_per_second \(int) NOT NULL,
              next_run_at \(int), last_run_at \(int))
            """,
            "CREATE INDEX keyring_policies_due ON keyring_policies (next_run_at)",
        ]
    }

    static var postgres: [String] {
        statements(int: "BIGINT")
            + RowSecuritySchema.wall(tenantTables)
    }

    static let migration = Migrations.Migration(version: 18, sqlite: statements(int: "INTEGER"), postgres: postgres)
}

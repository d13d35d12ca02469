/// Migration 17: alerts (one open alert per tenant, rule and dedup key, enforced by a partial unique
/// index) and each tenant's alert settings (rules and channels; webhook secrets by KV reference only).
/// On PostgreSQL both tables get the tenant wall of migration 15.
enum AlertSchema {
    static let tenantTables = ["alerts", "alert_settings"]

    static func statements(int: String) -> [String] {
        [
            """
            CREATE TABLE alerts (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), rule TEXT NOT NULL,
              severity TEXT NOT NULL, state TEXT NOT NULL, dedup_key TEXT NOT NULL, summary TEXT NOT NULL, details_json TEXT NOT NULL,
              occurrences \(int) NOT NULL, first_at \(int) NOT NULL, last_at \(int) NOT NULL, notified_at \(int), acked_by TEXT, acked_at \(int),
              resolved_at \(int))
            """,
            "CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant_id, rule, dedup_key) WHERE state <> 'resolved'",
            "CREATE INDEX alerts_recent ON alerts (tenant_id, first_at)",
            "CREATE INDEX alerts_quiet ON alerts (state, last_at)",
            "CREATE TABLE alert_settings (tenant_id TEXT PRIMARY KEY REFERENCES tenants(id), document TEXT NOT NULL)",
        ]
    }

    static var postgres: [String] {
        statements(int: "BIGINT")
            + RowSecuritySchema.wall(tenantTables)
    }

    static let migration = Migrations.Migration(version: 17, sqlite: statements(int: "INTEGER"), postgres: postgres)
}

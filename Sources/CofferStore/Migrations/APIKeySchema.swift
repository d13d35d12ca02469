/// Migration 3: API keys, stored as keyed hashes. JSON columns hold lists and maps.
enum APIKeySchema {
    static func table(int: String, blob: String) -> String {
        """
        CREATE TABLE api_keys (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id), hash \(blob) NOT NULL UNIQUE,
          display_prefix TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, scopes_json TEXT NOT NULL, created_at \(int) NOT NULL,
          expires_at \(int), last_used_at \(int), revoked_at \(int), revoked_reason TEXT, revoked_by TEXT, cidrs_json TEXT NOT NULL,
          rate_limit \(int) NOT NULL, rate_period_ms \(int) NOT NULL, quota_limit \(int) NOT NULL, quota_window_ms \(int) NOT NULL,
          metadata_json TEXT NOT NULL, rotated_from TEXT, rotated_to TEXT)
        """
    }

    static let migration = Migrations.Migration(
        version: 3,
        sqlite: [table(int: "INTEGER", blob: "BLOB"), "CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id)"],
        postgres: [table(int: "BIGINT", blob: "BYTEA"), "CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id)"]
    )
}

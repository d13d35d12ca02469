/// Migration 10: gateway projects' public assets and managed publishable keys, sealed with the tenant's data key.
enum GatewayAssetSchema {
    static func tables(int: String, blob: String) -> [String] {
        [
            """
            CREATE TABLE gateway_assets (tenant_id TEXT NOT NULL REFERENCES tenants(id), project TEXT NOT NULL, name TEXT NOT NULL,
              content_type TEXT NOT NULL, require_token \(int) NOT NULL, sha256 \(blob) NOT NULL, size \(int) NOT NULL,
              key_version \(int) NOT NULL, sealed \(blob) NOT NULL, created_at \(int) NOT NULL, updated_at \(int) NOT NULL,
              PRIMARY KEY (tenant_id, project, name))
            """,
            "CREATE INDEX gateway_assets_key_version ON gateway_assets (tenant_id, key_version)",
            """
            CREATE TABLE gateway_managed_keys (tenant_id TEXT NOT NULL REFERENCES tenants(id), project TEXT NOT NULL, key_id TEXT NOT NULL,
              sealed \(blob) NOT NULL, rotates_at \(int) NOT NULL, PRIMARY KEY (tenant_id, project))
            """,
        ]
    }

    static let migration = Migrations.Migration(
        version: 10, sqlite: tables(int: "INTEGER", blob: "BLOB"), postgres: tables(int: "BIGINT", blob: "BYTEA"))
}

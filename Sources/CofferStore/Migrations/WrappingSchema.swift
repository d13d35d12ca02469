/// Migration 14: wrapped responses (Vault's response wrapping), sealed, single use, expiring.
enum WrappingSchema {
    static func tables(int: String, blob: String) -> [String] {
        [
            """
            CREATE TABLE wrapped_responses (accessor TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants(id),
              token_hash \(blob) NOT NULL UNIQUE, creation_path TEXT NOT NULL, created_at \(int) NOT NULL, expires_at \(int) NOT NULL,
              sealed \(blob) NOT NULL)
            """,
            "CREATE INDEX wrapped_responses_expiry ON wrapped_responses (expires_at)",
        ]
    }

    static let migration = Migrations.Migration(
        version: 14, sqlite: tables(int: "INTEGER", blob: "BLOB"), postgres: tables(int: "BIGINT", blob: "BYTEA"))
}

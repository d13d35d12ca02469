/// Migration 5: transit keys (one sealed blob per key) and protection policies.
enum TransitSchema {
    static func tables(int: String, blob: String) -> [String] {
        [
            """
            CREATE TABLE transit_keys (tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, sealed \(blob) NOT NULL,
              created_at \(int) NOT NULL, updated_at \(int) NOT NULL, PRIMARY KEY (tenant_id, name))
            """,
            """
            CREATE TABLE protect_policies (tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, document TEXT NOT NULL,
              updated_at \(int) NOT NULL, PRIMARY KEY (tenant_id, name))
            """,
        ]
    }

    static let migration = Migrations.Migration(
        version: 5, sqlite: tables(int: "INTEGER", blob: "BLOB"), postgres: tables(int: "BIGINT", blob: "BYTEA"))
}

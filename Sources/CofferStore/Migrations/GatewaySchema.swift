/// Migration 7: gateway projects, one JSON document per (tenant, project).
enum GatewaySchema {
    static func tables(int: String) -> [String] {
        [
            """
            CREATE TABLE gateway_projects (tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, document TEXT NOT NULL,
              created_at \(int) NOT NULL, updated_at \(int) NOT NULL, PRIMARY KEY (tenant_id, name))
            """
        ]
    }

    static let migration = Migrations.Migration(version: 7, sqlite: tables(int: "INTEGER"), postgres: tables(int: "BIGINT"))
}

/// Migration 9: gateway clients suspended for anomalous behaviour, shared by every instance.
enum GatewaySuspensionSchema {
    static func tables(int: String) -> [String] {
        [
            """
            CREATE TABLE gateway_suspensions (tenant_id TEXT NOT NULL REFERENCES tenants(id), project TEXT NOT NULL, client TEXT NOT NULL,
              until_at \(int) NOT NULL, reason TEXT NOT NULL, created_at \(int) NOT NULL, PRIMARY KEY (tenant_id, project, client))
            """
        ]
    }

    static let migration = Migrations.Migration(version: 9, sqlite: tables(int: "INTEGER"), postgres: tables(int: "BIGINT"))
}

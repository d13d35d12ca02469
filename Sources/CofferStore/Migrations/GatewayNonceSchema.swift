/// Migration 8: nonces of signed gateway requests, kept until their window closes (replay protection
/// shared by every instance on one database).
enum GatewayNonceSchema {
    static func tables(int: String) -> [String] {
        [
            """
            CREATE TABLE gateway_nonces (tenant_id TEXT NOT NULL REFERENCES tenants(id), scope TEXT NOT NULL, nonce TEXT NOT NULL,
              expires_at \(int) NOT NULL, PRIMARY KEY (tenant_id, scope, nonce))
            """,
            "CREATE INDEX gateway_nonces_expiry ON gateway_nonces (expires_at)",
        ]
    }

    static let migration = Migrations.Migration(version: 8, sqlite: tables(int: "INTEGER"), postgres: tables(int: "BIGINT"))
}

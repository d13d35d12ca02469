/// Migration 12: the rest of Vault's token lifecycle — periodic and use-limited tokens, metadata,
/// network binding, scopes, the token role a token came from — and the tenant's token roles.
enum TokenLifecycleSchema {
    static func statements(int: String) -> [String] {
        [
            "ALTER TABLE tokens ADD COLUMN period_seconds \(int) NOT NULL DEFAULT 0",
            "ALTER TABLE tokens ADD COLUMN uses_left \(int) NOT NULL DEFAULT 0",
            "ALTER TABLE tokens ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE tokens ADD COLUMN bound_cidrs TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE tokens ADD COLUMN scopes TEXT",
            "ALTER TABLE tokens ADD COLUMN token_role TEXT",
            """
            CREATE TABLE token_roles (tenant_id TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, document TEXT NOT NULL,
              PRIMARY KEY (tenant_id, name))
            """,
        ]
    }

    static let migration = Migrations.Migration(version: 12, sqlite: statements(int: "INTEGER"), postgres: statements(int: "BIGINT"))
}

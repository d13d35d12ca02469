/// Migration 16: auth methods per tenant (Vault's `sys/auth`), their users and roles, AppRole secret
/// IDs (keyed hashes only), login lockouts, and where each login token came from. On PostgreSQL the new
/// tables get the tenant wall of migration 15.
enum IdentitySchema {
    static let tenantTables = ["auth_methods", "auth_entries", "auth_secret_ids", "auth_lockouts"]

    static func statements(int: String, blob: String) -> [String] {
        [
            """
            CREATE TABLE auth_methods (tenant_id TEXT NOT NULL REFERENCES tenants(id), path TEXT NOT NULL, type TEXT NOT NULL,
              description TEXT NOT NULL, accessor TEXT NOT NULL, config TEXT NOT NULL, created_at \(int) NOT NULL, PRIMARY KEY (tenant_id, path))
            """,
            """
            CREATE TABLE auth_entries (tenant_id TEXT NOT NULL REFERENCES tenants(id), mount TEXT NOT NULL, kind TEXT NOT NULL,
              name TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (tenant_id, mount, kind, name))
            """,
            """
            CREATE TABLE auth_secret_ids (tenant_id TEXT NOT NULL REFERENCES tenants(id), mount TEXT NOT NULL, accessor TEXT NOT NULL,
              hash \(blob) NOT NULL, role_name TEXT NOT NULL, uses_left \(int) NOT NULL, expires_at \(int), document TEXT NOT NULL,
              created_at \(int) NOT NULL, PRIMARY KEY (tenant_id, mount, accessor), UNIQUE (tenant_id, mount, hash))
            """,
            """
            CREATE TABLE auth_lockouts (tenant_id TEXT NOT NULL REFERENCES tenants(id), mount TEXT NOT NULL, subject TEXT NOT NULL,
              failures \(int) NOT NULL, window_start \(int) NOT NULL, locked_until \(int), PRIMARY KEY (tenant_id, mount, subject))
            """,
            "ALTER TABLE tokens ADD COLUMN auth_mount TEXT",
            "ALTER TABLE tokens ADD COLUMN auth_role TEXT",
            "ALTER TABLE tokens ADD COLUMN auth_subject TEXT",
            "CREATE INDEX tokens_auth_origin ON tokens (tenant_id, auth_mount, auth_subject)",
        ]
    }

    static var postgres: [String] {
        statements(int: "BIGINT", blob: "BYTEA")
            + RowSecuritySchema.wall(tenantTables)
    }

    static let migration = Migrations.Migration(version: 16, sqlite: statements(int: "INTEGER", blob: "BLOB"), postgres: postgres)
}

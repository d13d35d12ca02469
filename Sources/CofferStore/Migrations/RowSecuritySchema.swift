/// Migration 15 (PostgreSQL only): Row-Level Security as a second tenant wall behind every query's
/// own `tenant_id` filter.
///
/// Every table a tenant owns gets `ENABLE` and `FORCE ROW LEVEL SECURITY` and one policy: a row is
/// visible and writable only when its `tenant_id` equals the transaction's `coffer.tenant_id`
/// setting, or when the current role is `coffer_system` (entered with `SET LOCAL ROLE` by the few
/// paths that cross tenants on purpose; see ``SQLScope``). The policy names `current_user`, not role
/// membership, so a login role that is a member of `coffer_system` (and so inherits its table
/// privileges) still sees nothing of another tenant until it sets that role explicitly.
///
/// The role is created if missing (the migrating role then needs `CREATEROLE`; otherwise an
/// administrator creates it first — README "Database roles"), receives the table privileges, and is
/// granted to the migrating role so that a deployment still run as the owner keeps working. Data steps
/// of later migrations that touch tenant tables must `SET LOCAL ROLE coffer_system` first: FORCE makes
/// the policies apply to the tables' owner too.
enum RowSecuritySchema {
    /// The tables whose rows belong to one tenant (all have a `tenant_id` column).
    static let tenantTables = [
        "data_keys", "keyring_state", "tokens", "token_roles", "kv_metadata", "kv_versions", "api_keys", "transit_keys", "protect_policies",
        "mounts", "wrapped_responses", "gateway_projects", "gateway_nonces", "gateway_suspensions", "gateway_assets", "gateway_managed_keys",
        "audit_entries", "audit_heads", "audit_anchors", "audit_checkpoints",
    ]

    /// The policy's condition.
    static let condition = "tenant_id = current_setting('\(SQLScope.tenantSetting)', true) OR current_user = '\(SQLScope.systemRole)'"

    static var postgres: [String] {
        let role = SQLScope.systemRole
        return [
            """
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE \(role) NOLOGIN; END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """,
            "DO $$ BEGIN IF NOT pg_has_role(current_user, '\(role)', 'MEMBER') THEN EXECUTE format('GRANT \(role) TO %I', current_user); END IF; END $$",
            "DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO \(role)', current_schema()); END $$",
            "DO $$ BEGIN EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO \(role)', current_schema()); END $$",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO \(role)",
        ]
            + wall(tenantTables)
    }

    /// The tenant wall on `tables` (each with a `tenant_id` column): Row-Level Security, forced on the
    /// owner too, with the one policy. Later migrations that add tenant tables wall them with this.
    static func wall(_ tables: [String]) -> [String] {
        tables.flatMap { table in
            [
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                "CREATE POLICY coffer_tenant_wall ON \(table) USING (\(condition)) WITH CHECK (\(condition))",
            ]
        }
    }

    static let migration = Migrations.Migration(version: 15, sqlite: [], postgres: postgres)
}

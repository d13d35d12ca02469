import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// Row-Level Security on PostgreSQL: the second tenant wall. Each test connects as the application role
/// `coffer_app` (not the owner, no `BYPASSRLS`), the role `coffer serve` runs as in production.
@Suite("Row-Level Security (PostgreSQL)")
struct RowSecurityTests {
    static var enabled: Bool { StorageEngine.postgresRuns("RowSecurityTests") }

    /// Two tenants with secrets, gateway projects and token roles, written through Coffer as `coffer_app`.
    static func withTwoTenants(_ body: (SQLStorage, PostgresTestDatabase, CofferPostgresDatabase) async throws -> Void) async throws {
        let database = try await PostgresTestDatabase.create()
        let storage = try await SQLStorage.open(url: database.appURL, migrationURL: database.url, requireRowSecurity: true)
        let app = try await CofferPostgresDatabase.connect(url: database.appURL + "?pool_max=2")
        do {
            for name in ["rls-a", "rls-b"] {
                let (tenant, key) = StorageConformanceTests.tenant(name)
                try await storage.tenants.createTenant(tenant, firstKey: key)
                for path in ["one", "two", name] { _ = try await StorageConformanceTests.write(storage, tenant.id, path) }
                _ = try await storage.gateway.putProject(tenantID: tenant.id, name: "weather", document: "{}", at: 1, in: .unaudited())
                try await storage.tokens.putTokenRole(tenantID: tenant.id, name: "ci", document: .object([:]), in: .unaudited())
            }
            try await body(storage, database, app)
        } catch {
            try? await app.close()
            try? await storage.shutdown()
            await database.drop()
            throw error
        }
        try await app.close()
        try await storage.shutdown()
        await database.drop()
    }

    /// A query that forgets its tenant filter still sees only the tenant its transaction was opened for.
    @Test(.enabled(if: enabled), arguments: ["kv_metadata", "kv_versions", "data_keys", "gateway_projects", "token_roles"])
    func aQueryWithoutTenantFilterSeesOnlyTheCurrentTenant(table: String) async throws {
        try await Self.withTwoTenants { _, _, app in
            for tenant in ["id-rls-a", "id-rls-b"] {
                let rows = try await app.query(in: .tenant(tenant), "SELECT tenant_id FROM \(table)", [])
                #expect(!rows.isEmpty, "\(table): the tenant's own rows are visible")
                #expect(try rows.allSatisfy { try $0.text("tenant_id") == tenant }, "\(table): no row of the other tenant")
            }
            let paths = try await app.query(in: .tenant("id-rls-a"), "SELECT path FROM kv_metadata ORDER BY path", []).map { try $0.text("path") }
            #expect(paths == ["one", "rls-a", "two"])
        }
    }

    /// No tenant set — a statement outside any scope, or a transaction that never entered one — sees nothing.
    @Test(.enabled(if: enabled))
    func withNoTenantSetNothingIsVisible() async throws {
        try await Self.withTwoTenants { _, _, app in
            for table in RowSecurityTables.names {
                #expect(try await app.query("SELECT COUNT(*) AS n FROM \(table)", []).first?.int("n") == 0, "\(table)")
            }
            let inTransaction = try await app.transaction { tx in try await tx.query("SELECT COUNT(*) AS n FROM kv_versions", []) }
            #expect(try inTransaction.first?.int("n") == 0)
            // A scope lasts one transaction: the setting does not leak to the next user of the connection.
            _ = try await app.query(in: .tenant("id-rls-a"), "SELECT 1 AS one", [])
            for _ in 0..<4 { #expect(try await app.query("SELECT COUNT(*) AS n FROM kv_metadata", []).first?.int("n") == 0) }
            // An unknown tenant sees nothing either.
            #expect(try await app.query(in: .tenant("id-nobody"), "SELECT COUNT(*) AS n FROM kv_metadata", []).first?.int("n") == 0)
        }
    }

    /// Writes cannot cross the wall: an update of the other tenant's rows touches none, and an insert
    /// naming it is refused by the policy's check (INTERNAL_ERROR: only a Coffer bug could send one).
    @Test(.enabled(if: enabled))
    func writesCannotCrossTheWall() async throws {
        try await Self.withTwoTenants { storage, _, app in
            let updated = try await app.query(
                in: .tenant("id-rls-a"), "UPDATE gateway_projects SET document = '{\"x\":1}' WHERE tenant_id = 'id-rls-b' RETURNING name", [])
            #expect(updated.isEmpty)
            let deleted = try await app.query(in: .tenant("id-rls-a"), "DELETE FROM kv_versions WHERE tenant_id = 'id-rls-b' RETURNING path", [])
            #expect(deleted.isEmpty)
            await expectError(.internalError) {
                try await app.query(
                    in: .tenant("id-rls-a"), "INSERT INTO token_roles (tenant_id, name, document) VALUES ('id-rls-b', 'planted', '{}')", [])
            }
            #expect(try await storage.gateway.project(tenantID: "id-rls-b", name: "weather") == "{}")
            #expect(try await storage.tokens.tokenRoleNames(tenantID: "id-rls-b") == ["ci"])
            #expect(try await storage.secrets.paths(tenantID: "id-rls-b", mount: "secret", prefix: "").count == 3)
        }
    }

    /// The system scope (`SET LOCAL ROLE coffer_system`) sees every tenant, as the cross-tenant paths need.
    @Test(.enabled(if: enabled))
    func theSystemRoleSeesEveryTenant() async throws {
        try await Self.withTwoTenants { _, _, app in
            let tenants = try await app.query(in: .system, "SELECT DISTINCT tenant_id FROM kv_metadata ORDER BY tenant_id", [])
            #expect(try tenants.map { try $0.text("tenant_id") } == ["id-rls-a", "id-rls-b"])
            let role = try await app.query(in: .system, "SELECT current_user::text AS role", [])
            #expect(try role.first?.text("role") == "coffer_system")
            #expect(try await app.query("SELECT current_user::text AS role", []).first?.text("role") == "coffer_app")
        }
    }

    /// The catalogue agrees: every table with a `tenant_id` column has RLS enabled and forced with the
    /// wall's policy (a table added later without them fails here).
    @Test(.enabled(if: enabled))
    func everyTenantTableIsWalled() async throws {
        try await Self.withTwoTenants { _, _, app in
            let rows = try await app.query(
                """
                SELECT c.relname::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                  EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = 'coffer_tenant_wall') AS policy
                FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
                WHERE c.relkind = 'r' AND c.relnamespace = to_regnamespace(current_schema())::oid ORDER BY 1
                """, [])
            #expect(try rows.map { try $0.text("name") } == RowSecurityTables.names.sorted())
            for row in rows {
                let name = try row.text("name")
                let walled = try row.bool("enabled") && row.bool("forced") && row.bool("policy")
                #expect(walled, "\(name)")
            }
        }
    }

    /// Start-up refuses a role that could bypass the wall unless that is explicitly allowed, and names
    /// what is missing when the role may not enter the system scope.
    @Test(.enabled(if: enabled))
    func startupRefusesRolesThatCanBypass() async throws {
        try await Self.withTwoTenants { _, database, _ in
            let superuser = await expectError(.configInvalid) {
                try await SQLStorage.open(url: database.url, requireRowSecurity: true)
            }
            #expect(superuser?.message.contains("is a superuser") == true)
            #expect(superuser?.message.contains("storage.allow_rls_bypass") == true)
            let allowed = try await SQLStorage.open(url: database.url, requireRowSecurity: false)
            try await allowed.shutdown()

            let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
            let owner = try await CofferPostgresDatabase.connect(url: database.url + "?pool_max=1")
            // Role names come from hex digits only; CREATE ROLE takes no bind parameters.
            try await owner.query("CREATE ROLE coffer_bypass_\(suffix) LOGIN BYPASSRLS", [])
            try await owner.query("CREATE ROLE coffer_outsider_\(suffix) LOGIN", [])
            try await owner.query("GRANT SELECT ON ALL TABLES IN SCHEMA public TO coffer_outsider_\(suffix), coffer_bypass_\(suffix)", [])
            func url(_ role: String) -> String {
                var components = URLComponents(string: database.url)
                components?.user = role
                components?.password = nil
                return components?.string ?? database.url
            }
            let bypass = await expectError(.configInvalid) {
                try await SQLStorage.open(url: url("coffer_bypass_\(suffix)"), requireRowSecurity: true)
            }
            #expect(bypass?.message.contains("has BYPASSRLS") == true)
            let outsider = await expectError(.configInvalid) {
                try await SQLStorage.open(url: url("coffer_outsider_\(suffix)"), requireRowSecurity: true)
            }
            #expect(outsider?.message.contains("GRANT coffer_system TO coffer_outsider_\(suffix)") == true)
            try await owner.query("DROP OWNED BY coffer_outsider_\(suffix), coffer_bypass_\(suffix)", [])
            try await owner.query("DROP ROLE coffer_bypass_\(suffix)", [])
            try await owner.query("DROP ROLE coffer_outsider_\(suffix)", [])
            try await owner.close()
        }
    }
}

/// The tables the migrations wall, as the tests expect them (kept in step with `RowSecuritySchema` and
/// `IdentitySchema`).
enum RowSecurityTables {
    static let names = [
        "api_keys", "audit_anchors", "audit_checkpoints", "audit_entries", "audit_heads", "data_keys", "gateway_assets", "gateway_managed_keys",
        "gateway_nonces", "gateway_projects", "gateway_suspensions", "keyring_state", "kv_metadata", "kv_versions", "mounts", "protect_policies",
        "token_roles", "tokens", "transit_keys", "wrapped_responses", "auth_entries", "auth_lockouts", "auth_methods", "auth_secret_ids", "alerts",
        "alert_settings", "keyring_jobs", "keyring_policies",
    ]
}

import CofferCore

/// Migration 13: secrets-engine mounts per tenant, and API-key KV scopes made mount-qualified: a
/// stored `kv:read:payments/*` meant the one KV mount there was, so it becomes
/// `kv:read:<default mount>/payments/*` (scope targets are `<mount>/<path>` from now on).
enum MountSchema {
    static func tables(int: String) -> [String] {
        [
            """
            CREATE TABLE mounts (tenant_id TEXT NOT NULL REFERENCES tenants(id), path TEXT NOT NULL, type TEXT NOT NULL,
              description TEXT NOT NULL, kv_max_versions \(int) NOT NULL, kv_cas_required \(int) NOT NULL,
              kv_delete_version_after \(int) NOT NULL, default_lease_ttl \(int) NOT NULL, max_lease_ttl \(int) NOT NULL,
              accessor TEXT NOT NULL, created_at \(int) NOT NULL, PRIMARY KEY (tenant_id, path))
            """
        ]
    }

    /// Rewrites the KV scopes of every stored API key (JSON arrays of scope strings) in place.
    static func qualifyScopes(_ tx: any SQLExecutor, _ context: Migrations.Context) async throws {
        var sql = "scopes_json"
        var binds: [SQLValue] = []
        for action in ["read", "write", "*"] {
            binds.append(.text("\"kv:\(action):"))
            binds.append(.text("\"kv:\(action):\(context.defaultKVMount)/"))
            sql = "REPLACE(\(sql), $\(binds.count - 1), $\(binds.count))"
        }
        try await tx.query("UPDATE api_keys SET scopes_json = \(sql)", binds)
    }

    static let migration = Migrations.Migration(
        version: 13, sqlite: tables(int: "INTEGER"), postgres: tables(int: "BIGINT"), data: qualifyScopes)
}

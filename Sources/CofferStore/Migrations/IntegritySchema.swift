/// Migration 6: integrity. Authenticated keyring states (one per tenant) and the row that says a
/// store keeps them; an index for transitive token revocation; and the audit tables' guard extended to
/// INSERT on anchors and checkpoints, so that a row there can only come from the retention and
/// checkpoint paths, which open the gate inside their own transaction.
enum IntegritySchema {
    static func keyringTables(int: String, blob: String) -> [String] {
        [
            """
            CREATE TABLE keyring_state (tenant_id TEXT PRIMARY KEY REFERENCES tenants(id), generation \(int) NOT NULL,
              active_version \(int) NOT NULL, highest_version \(int) NOT NULL, digests TEXT NOT NULL, mac \(blob) NOT NULL)
            """,
            "CREATE TABLE keyring_meta (id \(int) PRIMARY KEY, adopted \(int) NOT NULL)",
            "INSERT INTO keyring_meta (id, adopted) VALUES (1, 0)",
            "CREATE INDEX tokens_parent ON tokens (tenant_id, parent_accessor)",
        ]
    }

    static let migration = Migrations.Migration(
        version: 6,
        sqlite: keyringTables(int: "INTEGER", blob: "BLOB")
            + ["audit_anchors", "audit_checkpoints"].map { table in
                """
                CREATE TRIGGER \(table)_no_insert BEFORE INSERT ON \(table)
                WHEN (SELECT open FROM audit_gate WHERE id = 1) IS NOT 1
                BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
                """
            },
        postgres: keyringTables(int: "BIGINT", blob: "BYTEA")
            + ["audit_anchors", "audit_checkpoints"].map { table in
                "CREATE TRIGGER \(table)_guard_insert BEFORE INSERT ON \(table) FOR EACH ROW EXECUTE FUNCTION coffer_audit_append_only()"
            }
    )
}

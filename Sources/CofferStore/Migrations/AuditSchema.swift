/// Migration 2: the audit log. Entries are append-only: a trigger rejects UPDATE and DELETE (and,
/// on PostgreSQL, TRUNCATE) unless the retention path has opened the gate inside its own transaction.
enum AuditSchema {
    static let migration = Migrations.Migration(
        version: 2,
        sqlite: [
            """
            CREATE TABLE audit_entries (tenant_id TEXT NOT NULL, sequence INTEGER NOT NULL, created_at INTEGER NOT NULL,
              actor_id TEXT NOT NULL, operation TEXT NOT NULL, status INTEGER NOT NULL, request_id TEXT NOT NULL,
              canonical BLOB NOT NULL, previous_hash BLOB NOT NULL, entry_hash BLOB NOT NULL, PRIMARY KEY (tenant_id, sequence))
            """,
            "CREATE INDEX audit_entries_time ON audit_entries (tenant_id, created_at)",
            "CREATE INDEX audit_entries_request ON audit_entries (tenant_id, request_id)",
            "CREATE TABLE audit_heads (tenant_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, head_hash BLOB NOT NULL)",
            "CREATE TABLE audit_anchors (tenant_id TEXT PRIMARY KEY, sequence INTEGER NOT NULL, hash BLOB NOT NULL, created_at INTEGER NOT NULL)",
            """
            CREATE TABLE audit_checkpoints (tenant_id TEXT NOT NULL, sequence INTEGER NOT NULL, head_hash BLOB NOT NULL,
              created_at INTEGER NOT NULL, signature BLOB NOT NULL, public_key BLOB NOT NULL, PRIMARY KEY (tenant_id, sequence))
            """,
            "CREATE TABLE audit_gate (id INTEGER PRIMARY KEY, open INTEGER NOT NULL)",
            "INSERT INTO audit_gate (id, open) VALUES (1, 0)",
        ]
            + ["audit_entries", "audit_anchors", "audit_checkpoints"].flatMap { table in
                ["UPDATE", "DELETE"].map { operation in
                    """
                    CREATE TRIGGER \(table)_no_\(operation.lowercased()) BEFORE \(operation) ON \(table)
                    WHEN (SELECT open FROM audit_gate WHERE id = 1) IS NOT 1
                    BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END
                    """
                }
            },
        postgres: [
            """
            CREATE TABLE audit_entries (tenant_id TEXT NOT NULL, sequence BIGINT NOT NULL, created_at BIGINT NOT NULL,
              actor_id TEXT NOT NULL, operation TEXT NOT NULL, status BIGINT NOT NULL, request_id TEXT NOT NULL,
              canonical BYTEA NOT NULL, previous_hash BYTEA NOT NULL, entry_hash BYTEA NOT NULL, PRIMARY KEY (tenant_id, sequence))
            """,
            "CREATE INDEX audit_entries_time ON audit_entries (tenant_id, created_at)",
            "CREATE INDEX audit_entries_request ON audit_entries (tenant_id, request_id)",
            "CREATE TABLE audit_heads (tenant_id TEXT PRIMARY KEY, sequence BIGINT NOT NULL, head_hash BYTEA NOT NULL)",
            "CREATE TABLE audit_anchors (tenant_id TEXT PRIMARY KEY, sequence BIGINT NOT NULL, hash BYTEA NOT NULL, created_at BIGINT NOT NULL)",
            """
            CREATE TABLE audit_checkpoints (tenant_id TEXT NOT NULL, sequence BIGINT NOT NULL, head_hash BYTEA NOT NULL,
              created_at BIGINT NOT NULL, signature BYTEA NOT NULL, public_key BYTEA NOT NULL, PRIMARY KEY (tenant_id, sequence))
            """,
            """
            CREATE FUNCTION coffer_audit_append_only() RETURNS trigger AS $$
            BEGIN
              IF current_setting('coffer.audit_retention', true) IS DISTINCT FROM 'on' THEN
                RAISE EXCEPTION 'audit log is append-only';
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql
            """,
        ]
            + ["audit_entries", "audit_anchors", "audit_checkpoints"].flatMap { table in
                [
                    "CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION coffer_audit_append_only()",
                    "CREATE TRIGGER \(table)_no_truncate BEFORE TRUNCATE ON \(table) FOR EACH STATEMENT EXECUTE FUNCTION coffer_audit_append_only()",
                ]
            }
    )

    /// Opens the retention gate for the current transaction only.
    static func openGate(_ tx: any SQLExecutor, dialect: SQLDialect) async throws {
        switch dialect {
        case .postgres: try await tx.query("SELECT set_config('coffer.audit_retention', 'on', true) AS gate", [])
        case .sqlite: try await tx.query("UPDATE audit_gate SET open = 1 WHERE id = 1", [])
        }
    }

    /// Closes the gate again before commit.
    static func closeGate(_ tx: any SQLExecutor, dialect: SQLDialect) async throws {
        switch dialect {
        case .postgres: try await tx.query("SELECT set_config('coffer.audit_retention', 'off', true) AS gate", [])
        case .sqlite: try await tx.query("UPDATE audit_gate SET open = 0 WHERE id = 1", [])
        }
    }
}

import CofferCore

/// Whose rows a statement may see. On PostgreSQL every tenant-owned table has Row-Level Security, and
/// a transaction sees only the rows of the tenant it was opened for (`coffer.tenant_id`, set with
/// `set_config(…, true)`, the function form of `SET LOCAL`), or — for work that crosses tenants on
/// purpose (looking a token, API key or wrapped response up by its hash before its tenant is known,
/// audit batches naming several tenants, root-key rotation and the keyring's start-up checks,
/// last-used flushes, bulk imports, sweeps) — every row, under the separate role `coffer_system`
/// (`SET LOCAL ROLE`). A statement run outside any scope sees no tenant's rows. On SQLite (one
/// process, no roles) scopes change nothing.
public enum SQLScope: Sendable, Hashable {
    /// One tenant's rows.
    case tenant(String)
    /// Every tenant's rows, as `coffer_system`: for the few paths that cross tenants by design.
    case system

    /// The cross-tenant role's name.
    public static let systemRole = "coffer_system"

    /// The setting the tenant policies compare `tenant_id` with.
    public static let tenantSetting = "coffer.tenant_id"

    /// Enters this scope inside an open transaction (PostgreSQL; nothing on SQLite). A tenant scope
    /// entered after the system one does not narrow the transaction: the role stays `coffer_system`.
    public func enter(on executor: any SQLExecutor, dialect: SQLDialect) async throws {
        guard dialect == .postgres else { return }
        switch self {
        case .tenant(let id):
            try await executor.query("SELECT set_config('\(Self.tenantSetting)', $1, true) AS scope", [.text(id)])
        case .system:
            try await executor.query("SET LOCAL ROLE \(Self.systemRole)", [])
        }
    }
}

extension SQLDatabase {
    /// Runs `body` in one transaction scoped to `scope`, ending within `deadline` (see ``SQLDatabase``).
    @discardableResult
    public func transaction<T: Sendable>(
        in scope: SQLScope, within deadline: Duration? = SQLDeadline.standard, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let dialect = self.dialect
        return try await transaction(within: deadline) { tx in
            try await scope.enter(on: tx, dialect: dialect)
            return try await body(tx)
        }
    }

    /// Runs one statement scoped to `scope`: on PostgreSQL in its own transaction (the scope lasts
    /// only as long as one), on SQLite directly.
    @discardableResult
    public func query(in scope: SQLScope, _ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        guard dialect == .postgres else { return try await query(sql, binds) }
        return try await transaction(in: scope) { tx in try await tx.query(sql, binds) }
    }
}

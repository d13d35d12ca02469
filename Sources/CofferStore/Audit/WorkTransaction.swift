import CofferCore

/// A database that runs write transactions for an explicit ``UnitOfWork``: the work's audit entry, when
/// it has one to write, is appended inside the same transaction before commit, so a change and its
/// record land together or not at all. Reads go to the database directly; nothing is inferred from SQL.
struct WorkDatabase: Sendable {
    let db: any SQLDatabase
    let clock: any CofferClock
    /// What this store's writes change, sent as the notification's payload so that other instances
    /// drop only the caches it names (``CacheKind``).
    var changes: [CacheKind] = []

    /// The same database for a store whose writes change `kinds`.
    func notifying(_ kinds: CacheKind...) -> WorkDatabase {
        var copy = self
        copy.changes = kinds
        return copy
    }

    var dialect: SQLDialect { db.dialect }

    /// A read (or a write that is not a tenant's data, like a last-used flush) outside any unit of work,
    /// seeing only `scope`'s rows.
    @discardableResult
    func query(in scope: SQLScope, _ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await db.query(in: scope, sql, binds)
    }

    /// A statement on tables no tenant owns (tenants, root and system keys, counters).
    @discardableResult
    func unscopedQuery(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] { try await db.query(sql, binds) }

    /// A transaction that records nothing (maintenance, tests), seeing only `scope`'s rows.
    @discardableResult
    func transaction<T: Sendable>(
        in scope: SQLScope, within deadline: Duration? = SQLDeadline.standard, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        try await db.transaction(in: scope, within: deadline, body)
    }

    /// One transaction for `work` on `scope`'s rows: `body`'s statements, then the work's entry (in its
    /// own tenant's chain), then commit.
    @discardableResult
    func transaction<T: Sendable>(
        _ work: UnitOfWork, in scope: SQLScope, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let dialect = db.dialect
        let clock = self.clock
        do {
            let notifies = dialect == .postgres
            let (result, entry) = try await db.transaction(in: scope) { tx -> (T, AuditEntry?) in
                let result = try await body(tx)
                // Other instances drop their caches when this commits (NOTIFY is delivered at commit).
                if notifies {
                    try await tx.query("SELECT 1 AS sent FROM pg_notify('coffer_changes', $1)", [.text(CacheKind.payload(changes))])
                }
                guard let (tenantID, record) = work.claimForTransaction(time: clock.nowMillis) else { return (result, nil) }
                return (result, try await SQLAuditStore.append([(tenantID, record)], in: tx, dialect: dialect, scope: scope).first)
            }
            if let entry { work.transactionCommitted(entry) }
            return result
        } catch {
            work.transactionRolledBack()
            throw error
        }
    }

    /// `" FOR UPDATE"` on PostgreSQL, nothing on SQLite (whose writer is already exclusive).
    var forUpdate: String { db.forUpdate }
}

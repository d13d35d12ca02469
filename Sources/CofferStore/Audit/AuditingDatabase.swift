import CofferCore
import Synchronization

/// Wraps a database so that the first write transaction of an audited request also appends the
/// request's audit entry, before commit: the change and its record land together or not at all.
final class AuditingDatabase: SQLDatabase {
    let inner: any SQLDatabase
    let clock: any CofferClock
    var dialect: SQLDialect { inner.dialect }

    init(inner: any SQLDatabase, clock: any CofferClock) {
        self.inner = inner
        self.clock = clock
    }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        // A single write statement in an audited request becomes a transaction so its entry can join it.
        if AuditScope.current != nil, !SQLStatement.isRead(sql) {
            return try await transaction { try await $0.query(sql, binds) }
        }
        return try await inner.query(sql, binds)
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        guard let scope = AuditScope.current else { return try await inner.transaction(body) }
        let dialect = inner.dialect
        let clock = self.clock
        do {
            let (result, entry) = try await inner.transaction { tx -> (T, AuditEntry?) in
                let result = try await body(tx)
                guard let (tenantID, record) = scope.claimForTransaction(time: clock.nowMillis) else { return (result, nil) }
                return (result, try await SQLAuditStore.append([(tenantID, record)], in: tx, dialect: dialect).first)
            }
            if let entry { scope.transactionCommitted(entry) }
            return result
        } catch {
            scope.transactionRolledBack()
            throw error
        }
    }

    func close() async throws { try await inner.close() }
}

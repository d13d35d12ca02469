import CofferCore
import Foundation

/// A value bound to or read from SQL. Both engines store only these four kinds.
public enum SQLValue: Sendable, Hashable {
    /// 64-bit integer (also booleans, as 0/1, and times, as ms since epoch).
    case int(Int64)
    /// UTF-8 text.
    case text(String)
    /// Bytes (BLOB / BYTEA).
    case blob([UInt8])
    /// SQL NULL.
    case null

    /// `.int` or `.null`.
    public static func optional(_ value: Int64?) -> SQLValue { value.map(SQLValue.int) ?? .null }
    /// `.text` or `.null`.
    public static func optional(_ value: String?) -> SQLValue { value.map(SQLValue.text) ?? .null }
    /// `.int(1)` or `.int(0)`.
    public static func bool(_ value: Bool) -> SQLValue { .int(value ? 1 : 0) }
}

/// One result row, by lower-case column name.
public struct SQLRow: Sendable {
    /// The row's values.
    public var values: [String: SQLValue]

    /// Creates a row.
    public init(values: [String: SQLValue]) { self.values = values }

    /// An integer column; throws if absent or of another kind.
    public func int(_ column: String) throws -> Int64 {
        guard case .int(let value) = values[column] else { throw Self.typeError(column) }
        return value
    }

    /// A nullable integer column.
    public func optionalInt(_ column: String) throws -> Int64? {
        switch values[column] {
        case .int(let value): return value
        case .null, nil: return nil
        default: throw Self.typeError(column)
        }
    }

    /// A text column.
    public func text(_ column: String) throws -> String {
        guard case .text(let value) = values[column] else { throw Self.typeError(column) }
        return value
    }

    /// A nullable text column.
    public func optionalText(_ column: String) throws -> String? {
        switch values[column] {
        case .text(let value): return value
        case .null, nil: return nil
        default: throw Self.typeError(column)
        }
    }

    /// A bytes column.
    public func blob(_ column: String) throws -> [UInt8] {
        switch values[column] {
        case .blob(let value): return value
        default: throw Self.typeError(column)
        }
    }

    /// A nullable bytes column.
    public func optionalBlob(_ column: String) throws -> [UInt8]? {
        switch values[column] {
        case .blob(let value): return value
        case .null, nil: return nil
        default: throw Self.typeError(column)
        }
    }

    /// A 0/1 integer column as a boolean; any other value is `STORAGE_CORRUPT` (fail closed).
    public func bool(_ column: String) throws -> Bool {
        switch try int(column) {
        case 0: return false
        case 1: return true
        default: throw CofferError(.storageCorrupt, "column \(column) holds a value that is not 0 or 1")
        }
    }

    /// A text column holding one of a closed set of values (a role, an environment, a kind). A value
    /// Coffer does not know is `STORAGE_CORRUPT`, never read as some default.
    public func known<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let text = try self.text(column)
        guard let value = T(rawValue: text) else {
            throw CofferError(.storageCorrupt, "column \(column) holds a value this version of Coffer does not know")
        }
        return value
    }

    /// A text column holding JSON of type `T`; `STORAGE_CORRUPT` if it does not decode.
    public func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        guard let decoded = try? JSONDecoder().decode(T.self, from: Data(try self.text(column).utf8)) else {
            throw CofferError(.storageCorrupt, "column \(column) does not hold the JSON Coffer wrote")
        }
        return decoded
    }

    static func typeError(_ column: String) -> CofferError {
        CofferError(.storageCorrupt, "unexpected type in column \(column)")
    }
}

/// Runs parameterised SQL. Placeholders are written `$1`, `$2`, … for both engines.
public protocol SQLExecutor: Sendable {
    /// Runs one statement with bound values and returns its rows.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// Classifies statements.
public enum SQLStatement {
    /// Whether `sql` is a plain read (`SELECT …`), which needs neither the writer nor a transaction.
    public static func isRead(_ sql: String) -> Bool {
        sql.utf8.prefix(6).map { $0 & 0xDF } == Array("SELECT".utf8)
    }
}

/// Which SQL engine a database is.
public enum SQLDialect: Sendable {
    /// Embedded SQLite.
    case sqlite
    /// PostgreSQL.
    case postgres
}

/// A database: an executor that can also run a transaction.
public protocol SQLDatabase: SQLExecutor {
    /// The engine.
    var dialect: SQLDialect { get }
    /// Runs `body` in one transaction (serialisable for writers on SQLite; `READ COMMITTED` + row locks on
    /// PostgreSQL). On PostgreSQL the caller gets `STORAGE_UNAVAILABLE` if the transaction has not ended
    /// within `deadline` (nil: no limit, for migrations and bulk maintenance); it is then cancelled and
    /// left to end on its own, and its outcome is unknown to the caller (as with any lost connection).
    @discardableResult
    func transaction<T: Sendable>(within deadline: Duration?, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Closes the database.
    func close() async throws
    /// Runs `body` only while this process holds the cluster-wide lock `key`, and returns true; returns
    /// false at once when another process holds it. `body` is given a check that the lock is still
    /// held (on PostgreSQL a session advisory lock on one pooled connection, released when that
    /// connection or process dies; on SQLite, one instance by design, always held).
    func whileHoldingLock(
        _ key: Int64, _ body: @Sendable (_ stillHeld: @escaping @Sendable () async -> Bool) async throws -> Void
    )
        async throws -> Bool
    /// Calls `changed` whenever another process may have changed stored data (PostgreSQL: every
    /// notification on the `coffer_changes` channel, with its payload naming what changed, and every
    /// (re)connection of the listener with nil, since notifications may have been missed meanwhile).
    /// Nil on engines with one process (SQLite). Cancel the returned task to stop.
    func watchChanges(_ changed: @escaping @Sendable (_ payload: String?) -> Void) -> Task<Void, Never>?
}

/// How long Coffer waits for the database.
public enum SQLDeadline {
    /// A statement or a request's transaction: far above any healthy one, short enough that a
    /// statement lost on a dead connection never holds its caller for long.
    public static let standard: Duration = .seconds(15)
}

extension SQLDatabase {
    /// Runs `body` in one transaction that must end within ``SQLDeadline/standard``.
    @discardableResult
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await transaction(within: SQLDeadline.standard, body)
    }

    /// `FOR UPDATE` on PostgreSQL, nothing on SQLite (whose write transactions are already exclusive).
    public var forUpdate: String { dialect == .postgres ? " FOR UPDATE" : "" }
}

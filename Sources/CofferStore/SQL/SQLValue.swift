import CofferCore

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

    /// A 0/1 integer column as a boolean.
    public func bool(_ column: String) throws -> Bool { try int(column) != 0 }

    static func typeError(_ column: String) -> CofferError {
        CofferError(.storageUnavailable, "unexpected type in column \(column)")
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
    /// Runs `body` in one transaction (serialisable for writers on SQLite; `READ COMMITTED` + row locks on PostgreSQL).
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Closes the database.
    func close() async throws
}

extension SQLDatabase {
    /// `FOR UPDATE` on PostgreSQL, nothing on SQLite (whose write transactions are already exclusive).
    public var forUpdate: String { dialect == .postgres ? " FOR UPDATE" : "" }
}

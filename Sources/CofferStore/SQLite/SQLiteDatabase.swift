import CofferCore
import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// Embedded SQLite in WAL mode with `synchronous=FULL`, so an acknowledged write survives a crash.
///
/// One writer connection serialised by an async lock (transactions are `BEGIN IMMEDIATE`), and a
/// separate connection for reads outside transactions, which WAL lets run beside the writer.
public final class CofferSQLiteDatabase: SQLDatabase {
    /// Always `.sqlite`.
    public let dialect = SQLDialect.sqlite
    private let writer: SQLiteConnection
    private let reader: SQLiteConnection
    private let writeLock = AsyncLock()
    private let readLock = AsyncLock()

    private init(writer: SQLiteConnection, reader: SQLiteConnection) {
        self.writer = writer
        self.reader = reader
    }

    /// Opens (creating if needed) the database file at `path`, or an in-memory database for `:memory:`.
    public static func open(path: String, logger: Logger = Logger(label: "coffer.sqlite")) async throws -> CofferSQLiteDatabase {
        if path == ":memory:" {
            // A named shared-cache memory database lets the reader see the writer's data.
            let name = "file:coffer-\(UUID().uuidString)?mode=memory&cache=shared"
            let writer = try await SQLiteConnection.open(storage: .file(path: name), logger: logger)
            let reader = try await SQLiteConnection.open(storage: .file(path: name), logger: logger)
            let database = CofferSQLiteDatabase(writer: writer, reader: reader)
            try await database.configure(wal: false)
            return database
        }
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let database = CofferSQLiteDatabase(writer: writer, reader: reader)
        try await database.configure(wal: true)
        return database
    }

    private func configure(wal: Bool) async throws {
        for connection in [writer, reader] {
            if wal { _ = try await connection.query("PRAGMA journal_mode=WAL", []) }
            _ = try await connection.query("PRAGMA synchronous=FULL", [])
            _ = try await connection.query("PRAGMA foreign_keys=ON", [])
            _ = try await connection.query("PRAGMA busy_timeout=5000", [])
        }
    }

    /// Runs a statement. Writes go through the writer lock; plain `SELECT`s use the reader connection.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        if SQLStatement.isRead(sql) {
            return try await readLock.withLock { try await Self.run(self.reader, sql, binds) }
        }
        return try await writeLock.withLock { try await Self.run(self.writer, sql, binds) }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction on the writer connection (a local file: no deadline).
    @discardableResult
    public func transaction<T: Sendable>(
        within deadline: Duration?, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        try await writeLock.withLock {
            let executor = Executor(connection: self.writer)
            _ = try await Self.run(self.writer, "BEGIN IMMEDIATE", [])
            // COMMIT and ROLLBACK run in a task of their own, which a cancelled caller does not cancel:
            // a transaction left open on the one writer connection would fail every later write.
            let writer = self.writer
            do {
                let result = try await body(executor)
                try await Task { _ = try await Self.run(writer, "COMMIT", []) }.value
                return result
            } catch {
                _ = await Task { try? await Self.run(writer, "ROLLBACK", []) }.value
                throw error
            }
        }
    }

    /// One process owns a SQLite database: nobody else changes it.
    public func watchChanges(_ changed: @escaping @Sendable (_ payload: String?) -> Void) -> Task<Void, Never>? { nil }

    /// One instance owns a SQLite database: the lock is always held.
    public func whileHoldingLock(
        _ key: Int64, _ body: @Sendable (_ stillHeld: @escaping @Sendable () async -> Bool) async throws -> Void
    ) async throws -> Bool {
        try await body({ true })
        return true
    }

    /// Closes both connections.
    public func close() async throws {
        try await reader.close()
        try await writer.close()
    }

    struct Executor: SQLExecutor {
        let connection: SQLiteConnection
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await CofferSQLiteDatabase.run(connection, sql, binds)
        }
    }

    /// Rewrites `$N` placeholders to SQLite's `?N` (which binds by index, like PostgreSQL's `$N`).
    static func translate(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "$"), index + 1 < bytes.count, (48...57).contains(bytes[index + 1]) {
                out.append(UInt8(ascii: "?"))
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let data: [SQLiteData] = binds.map { value in
            switch value {
            case .int(let number): return .integer(Int(number))
            case .text(let text): return .text(text)
            case .blob(let bytes): return .blob(ByteBuffer(bytes: bytes))
            case .null: return .null
            }
        }
        do {
            let rows = try await connection.query(translate(sql), data)
            return rows.map { row in
                var values: [String: SQLValue] = [:]
                for column in row.columns {
                    let value: SQLValue
                    switch column.data {
                    case .integer(let number): value = .int(Int64(number))
                    case .float(let number): value = .int(Int64(number))
                    case .text(let text): value = .text(text)
                    case .blob(var buffer): value = .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
                    case .null: value = .null
                    }
                    // Coffer's schema names columns in lower case: only other names pay for the mapping.
                    let name = column.name
                    values[name.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) ? name.lowercased() : name] = value
                }
                return SQLRow(values: values)
            }
        } catch let error as SQLiteError {
            if error.reason == .constraint || error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed {
                throw StorageConstraintError(message: "constraint violated")
            }
            throw CofferError(.storageUnavailable, "SQLite error: \(error.reason)")
        }
    }
}

/// A uniqueness or foreign-key constraint failed.
public struct StorageConstraintError: Error, Sendable {
    /// What failed (no values).
    public let message: String
}

import CofferCore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// PostgreSQL through postgres-nio's connection pool. Several Coffer instances may share one database.
///
/// A watchdog keeps the pool honest: every `watchdogInterval` it runs `SELECT 1` through the pool, and
/// when that gets no connection within `stallTimeout` while a direct connection to the same database
/// succeeds, the pool has stopped handing out connections (seen with postgres-nio 1.33 after a
/// PostgreSQL restart: the pool stays in its "connection creation failing" state and queues every
/// request) — it is replaced by a fresh one, and the old one's waiting requests fail with
/// `STORAGE_UNAVAILABLE`. A database that is really down is left to the pool's own retries.
public final class CofferPostgresDatabase: SQLDatabase {
    /// Always `.postgres`.
    public let dialect = SQLDialect.postgres
    private struct Pool: Sendable {
        let client: PostgresClient
        let run: Task<Void, Never>
    }

    private let pool: Mutex<Pool>
    private let endpoint: PostgresEndpoint
    private let logger: Logger
    private let watchdog = Mutex<Task<Void, Never>?>(nil)
    private let replacements = Atomic<Int>(0)

    private var client: PostgresClient { pool.withLock { $0.client } }

    /// How many times the watchdog replaced a stalled pool (for tests and logs).
    public var poolReplacements: Int { replacements.load(ordering: .relaxed) }

    private init(endpoint: PostgresEndpoint, logger: Logger) async {
        self.endpoint = endpoint
        self.logger = logger
        self.pool = Mutex(await Self.startPool(endpoint, logger: logger))
    }

    /// A new pool whose `run()` has begun, so postgres-nio never warns that it has not.
    private static func startPool(_ endpoint: PostgresEndpoint, logger: Logger) async -> Pool {
        let (started, signal) = AsyncStream<Void>.makeStream()
        let client = PostgresClient(configuration: endpoint.clientConfiguration, backgroundLogger: logger)
        let run = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        await Task.yield()
        return Pool(client: client, run: run)
    }

    /// Connects using a `postgres://user:password@host:port/database` URL (`?sslmode=disable|prefer|require`),
    /// or a unix socket given as `postgres:///database?host=/path/to/socket-dir&user=name`.
    ///
    /// One direct connection is made first, giving up after 5 s, so a wrong host, port, password or
    /// database name fails at once with one ``ErrorCode/storageUnavailable`` line saying which
    /// (never the password), instead of the pool retrying in the background.
    public static func connect(
        url: String, logger: Logger = Logger(label: "coffer.postgres"), watchdogInterval: Duration = .seconds(2),
        stallTimeout: Duration = .seconds(3)
    ) async throws -> CofferPostgresDatabase {
        let endpoint = try PostgresEndpoint(url: url)
        try await endpoint.probe(logger: logger)
        let database = await CofferPostgresDatabase(endpoint: endpoint, logger: logger)
        _ = try await database.query("SELECT 1 AS one", [])
        database.startWatchdog(interval: watchdogInterval, stallTimeout: stallTimeout)
        return database
    }

    private func startWatchdog(interval: Duration, stallTimeout: Duration) {
        let task = Task { [weak self] in
            while (try? await Task.sleep(for: interval)) != nil {
                guard let self else { return }
                await self.checkPool(stallTimeout: stallTimeout)
            }
        }
        watchdog.withLock { $0 = task }
    }

    /// Replaces the pool if it cannot hand out a connection while the database itself answers.
    func checkPool(stallTimeout: Duration) async {
        let client = self.client
        let logger = self.logger
        // Deadline, not a task group: a group cannot return while a stuck query ignores cancellation.
        let answered =
            (try? await Deadline.run(within: stallTimeout, orThrow: { CancellationError() }) {
                _ = try await client.query("SELECT 1 AS alive", logger: logger)
                return true
            }) ?? false
        guard !answered, (try? await endpoint.probe(logger: logger)) != nil else { return }
        logger.warning("PostgreSQL connection pool stopped handing out connections while the database answers; replacing it")
        let fresh = await Self.startPool(endpoint, logger: logger)
        let old = pool.withLock { pool in
            defer { pool = fresh }
            return pool
        }
        replacements.add(1, ordering: .relaxed)
        old.run.cancel()
    }

    /// Parses a connection URL; errors never repeat the password.
    public static func configuration(from url: String) throws -> PostgresClient.Configuration {
        try PostgresEndpoint(url: url).clientConfiguration
    }

    /// Runs a statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let client = self.client
        let logger = self.logger
        // A statement never holds its caller longer than this, even if its connection died unnoticed.
        return try await Deadline.run(within: SQLDeadline.standard, orThrow: Self.stalled("statement", SQLDeadline.standard, logger)) {
            try await Self.map {
                try await Self.collect(try await client.query(Self.makeQuery(sql, binds), logger: logger))
            }
        }
    }

    /// Runs `body` in a transaction on one pooled connection, ending within `deadline` (see ``SQLDatabase``).
    @discardableResult
    public func transaction<T: Sendable>(
        within deadline: Duration?, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        let client = self.client
        let logger = self.logger
        let run: @Sendable () async throws -> T = {
            try await Self.map {
                try await client.withTransaction(logger: logger) { connection in
                    try await body(Executor(connection: connection, logger: logger))
                }
            }
        }
        guard let deadline else { return try await run() }
        return try await Deadline.run(within: deadline, orThrow: Self.stalled("transaction", deadline, logger), run)
    }

    /// The error (and warning) of a statement or transaction cut by its deadline.
    static func stalled(_ what: String, _ limit: Duration, _ logger: Logger) -> @Sendable () -> any Error {
        {
            logger.warning("a PostgreSQL \(what) did not end within \(limit); its caller gets STORAGE_UNAVAILABLE")
            return CofferError(.storageUnavailable, "PostgreSQL did not answer within \(limit)")
        }
    }

    /// The channel every audited write notifies, in its own transaction (delivered at commit).
    public static let changesChannel = "coffer_changes"

    /// `LISTEN coffer_changes` on a connection leased from the pool, re-established after any failure
    /// (each (re)connection counts as a change: notifications may have been missed).
    public func watchChanges(_ changed: @escaping @Sendable (_ payload: String?) -> Void) -> Task<Void, Never>? {
        let logger = self.logger
        return Task { [weak self] in
            while !Task.isCancelled {
                guard let client = self?.client else { return }
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.changesChannel) { notifications in
                            changed(nil)
                            for try await notification in notifications { changed(notification.payload) }
                        }
                    }
                } catch {
                    if !Task.isCancelled { logger.debug("change listener reconnecting", metadata: ["error": "\(error)"]) }
                }
                changed(nil)
                guard (try? await Task.sleep(for: .milliseconds(200))) != nil else { return }
            }
        }
    }

    /// A session advisory lock on a connection leased from the pool for as long as `body` runs.
    public func whileHoldingLock(
        _ key: Int64, _ body: @Sendable (_ stillHeld: @escaping @Sendable () async -> Bool) async throws -> Void
    ) async throws -> Bool {
        let logger = self.logger
        return try await Self.map {
            try await client.withConnection { connection in
                let lock = Self.makeQuery("SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END AS held", [.int(key)])
                guard try await Self.collect(try await connection.query(lock, logger: logger)).first?.int("held") == 1 else { return false }
                let stillHeld: @Sendable () async -> Bool = {
                    (try? await connection.query(Self.makeQuery("SELECT 1 AS alive", []), logger: logger)) != nil
                }
                do {
                    try await body(stillHeld)
                } catch {
                    _ = try? await connection.query(Self.makeQuery("SELECT pg_advisory_unlock($1)", [.int(key)]), logger: logger)
                    throw error
                }
                _ = try? await connection.query(Self.makeQuery("SELECT pg_advisory_unlock($1)", [.int(key)]), logger: logger)
                return true
            }
        }
    }

    /// Stops the watchdog and the pool.
    public func close() async throws {
        watchdog.withLock { $0?.cancel() }
        let current = pool.withLock { $0 }
        current.run.cancel()
        _ = await current.run.value
    }

    struct Executor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger
        func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await CofferPostgresDatabase.collect(try await connection.query(CofferPostgresDatabase.makeQuery(sql, binds), logger: logger))
        }
    }

    static func makeQuery(_ sql: String, _ binds: [SQLValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .int(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .null: bindings.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var result: [SQLRow] = []
        for try await row in rows {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName.lowercased()] = try decode(cell)
            }
            result.append(SQLRow(values: values))
        }
        return result
    }

    static func decode(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(Int64(try cell.decode(Int.self)))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }

    /// Maps unique violations to ``StorageConstraintError`` and other failures to `STORAGE_UNAVAILABLE`
    /// (without the query text or bound values).
    static func map<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            // Surface what the transaction body threw (a domain error, or the failed statement).
            if let inner = error.closureError ?? error.beginError ?? error.commitError { throw translate(inner) }
            throw CofferError(.storageUnavailable, "PostgreSQL transaction failed")
        } catch {
            throw translate(error)
        }
    }

    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        if let state = error.serverInfo?[.sqlState], state.hasPrefix("23") {
            return StorageConstraintError(message: "constraint violated")
        }
        let detail = error.serverInfo?[.message] ?? "\(error.code)"
        // A row outside the transaction's tenant: the second wall caught what Coffer's own filter missed.
        if error.serverInfo?[.sqlState] == "42501", detail.contains("row-level security") {
            return CofferError(.internalError, "PostgreSQL refused a row outside the transaction's tenant (Row-Level Security)")
        }
        return CofferError(.storageUnavailable, "PostgreSQL error: \(detail)")
    }
}

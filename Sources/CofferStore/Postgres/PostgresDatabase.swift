import CofferCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL through postgres-nio's connection pool. Several Coffer instances may share one database.
public final class CofferPostgresDatabase: SQLDatabase {
    /// Always `.postgres`.
    public let dialect = SQLDialect.postgres
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    /// Connects using a `postgres://user:password@host:port/database` URL (`?sslmode=disable|prefer|require`),
    /// or a unix socket given as `postgres:///database?host=/path/to/socket-dir&user=name`.
    public static func connect(url: String, logger: Logger = Logger(label: "coffer.postgres")) async throws -> CofferPostgresDatabase {
        let configuration = try configuration(from: url)
        let database = CofferPostgresDatabase(client: PostgresClient(configuration: configuration, backgroundLogger: logger), logger: logger)
        _ = try await database.query("SELECT 1 AS one", [])
        return database
    }

    /// Parses a connection URL; errors never repeat the password.
    public static func configuration(from url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw CofferError(.configInvalid, "the PostgreSQL URL must look like postgres://user:password@host:5432/database")
        }
        let items = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let user = components.user ?? items["user"] ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        var configuration: PostgresClient.Configuration
        if let socketDirectory = items["host"], socketDirectory.hasPrefix("/") {
            let port = components.port ?? Int(items["port"] ?? "") ?? 5432
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password,
                database: database.isEmpty ? nil : database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch items["sslmode"] ?? "disable" {
            case "disable": tls = .disable
            case "prefer": tls = .prefer(.makeClientConfiguration())
            case "require", "verify-full": tls = .require(.makeClientConfiguration())
            default: throw CofferError(.configInvalid, "sslmode must be disable, prefer, require or verify-full")
            }
            configuration = PostgresClient.Configuration(
                host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: user, password: password,
                database: database.isEmpty ? nil : database, tls: tls)
        }
        configuration.options.maximumConnections = Int(items["pool_max"] ?? "") ?? 20
        return configuration
    }

    /// Runs a statement on a pooled connection.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await Self.map {
            try await Self.collect(try await client.query(Self.makeQuery(sql, binds), logger: logger))
        }
    }

    /// Runs `body` in a transaction on one pooled connection.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await Self.map {
            try await client.withTransaction(logger: logger) { connection in
                try await body(Executor(connection: connection, logger: logger))
            }
        }
    }

    /// Stops the pool.
    public func close() async throws {
        runTask.cancel()
        _ = await runTask.value
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
        return CofferError(.storageUnavailable, "PostgreSQL error: \(detail)")
    }
}

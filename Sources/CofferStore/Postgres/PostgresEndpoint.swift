import CofferCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL server is and how to log in, parsed once from a URL, for the pool and for the
/// start-up probe alike. Descriptions never hold the password.
struct PostgresEndpoint: Sendable {
    enum Location: Sendable {
        case tcp(host: String, port: Int)
        case socket(path: String)
    }

    enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    let location: Location
    let user: String
    let password: String?
    let database: String?
    let tlsMode: TLSMode
    let maximumConnections: Int

    /// Parses `postgres://user:password@host:port/database?sslmode=…&pool_max=…` or a unix socket
    /// (`postgres:///database?host=/dir&user=name`).
    init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw CofferError(.configInvalid, "the PostgreSQL URL must look like postgres://user:password@host:5432/database")
        }
        let items = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.user = components.user ?? items["user"] ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.database = database.isEmpty ? nil : database
        if let socketDirectory = items["host"], socketDirectory.hasPrefix("/") {
            let port = components.port ?? Int(items["port"] ?? "") ?? 5432
            self.location = .socket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
            self.tlsMode = .disable
        } else {
            self.location = .tcp(host: components.host ?? "127.0.0.1", port: components.port ?? 5432)
            switch items["sslmode"] ?? "disable" {
            case "disable": self.tlsMode = .disable
            case "prefer": self.tlsMode = .prefer
            case "require", "verify-full": self.tlsMode = .require
            default: throw CofferError(.configInvalid, "sslmode must be disable, prefer, require or verify-full")
            }
        }
        self.maximumConnections = Int(items["pool_max"] ?? "") ?? 20
    }

    /// `host:port` or the socket path, for messages.
    var place: String {
        switch location {
        case .tcp(let host, let port): return "\(host):\(port)"
        case .socket(let path): return path
        }
    }

    /// The `createdb` command for the database this endpoint names.
    var createCommand: String {
        let target =
            switch location {
            case .tcp(let host, let port): "-h \(host) -p \(port)"
            case .socket(let path): "-h \((path as NSString).deletingLastPathComponent)"
            }
        return "createdb \(target) -O \(user) \(database ?? user)"
    }

    /// The pool's configuration.
    var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch location {
        case .socket(let path):
            configuration = PostgresClient.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresClient.Configuration.TLS =
                switch tlsMode {
                case .disable: .disable
                case .prefer: .prefer(.makeClientConfiguration())
                case .require: .require(.makeClientConfiguration())
                }
            configuration = PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// One connection and `SELECT 1`, within 5 s; a failure is one line naming the cause.
    func probe(logger: Logger) async throws {
        var configuration: PostgresConnection.Configuration
        switch location {
        case .socket(let path):
            configuration = PostgresConnection.Configuration(unixSocketPath: path, username: user, password: password, database: database)
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            do {
                tls =
                    switch tlsMode {
                    case .disable: .disable
                    case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                    case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                    }
            } catch {
                throw CofferError(.configInvalid, "cannot set up TLS for PostgreSQL at \(place)")
            }
            configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(5)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger)
        } catch {
            throw CofferError(
                .storageUnavailable, "cannot connect to PostgreSQL at \(place) (user \(user), database \(database ?? user)): \(reason(error))")
        }
        try? await connection.close()
    }

    /// Why a connection failed, in words (the server's SQLSTATE, or the socket's failure).
    func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "the connection failed" }
        if let state = error.serverInfo?[.sqlState] {
            switch state {
            case "3D000":
                return "the database does not exist; create it: \(createCommand)"
            case "28P01", "28000":
                return "the server refused the user name or password (SQLSTATE \(state))"
            case "57P03":
                return "the server is starting up or shutting down (SQLSTATE 57P03)"
            case "53300":
                return "the server has too many connections (SQLSTATE 53300)"
            default:
                return "the server refused the connection (SQLSTATE \(state))"
            }
        }
        if error.code == .sslUnsupported { return "the server does not support TLS; use sslmode=disable or turn TLS on at the server" }
        if error.code == .authMechanismRequiresPassword { return "the server asks for a password and the URL has none" }
        switch error.underlying {
        case let underlying as ChannelError:
            if case .connectTimeout = underlying { return "no connection within 5 s; check the host, port and firewall" }
            return "the connection failed"
        case let underlying as NIOConnectionError:
            if underlying.connectionErrors.isEmpty { return "the host name does not resolve" }
            if let first = underlying.connectionErrors.first?.error as? IOError, first.errnoCode == ECONNREFUSED {
                return "connection refused; is PostgreSQL running and listening on that port?"
            }
            return "the connection failed"
        case let underlying as IOError:
            if underlying.errnoCode == ECONNREFUSED { return "connection refused; is PostgreSQL running and listening on that port?" }
            if underlying.errnoCode == ENOENT { return "no socket at that path; is PostgreSQL running?" }
            return "the connection failed (errno \(underlying.errnoCode))"
        default:
            if error.code == .serverClosedConnection { return "the server closed the connection" }
            return "the connection failed"
        }
    }
}

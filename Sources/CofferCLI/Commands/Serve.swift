import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer serve`: the production server (config file, then environment, then flags).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Coffer server (SQLite or PostgreSQL, optional TLS).",
        discussion: """
            Needs the root key (COFFER_ROOT_KEY_FILE, COFFER_ROOT_KEY or COFFER_ROOT_PASSPHRASE) and an initialised
            store (coffer operator init). Settings: the config file, then COFFER_* variables, then flags;
            docs/configuration.md lists them all.

            Examples:
              COFFER_ROOT_KEY_FILE=/etc/coffer/root.key coffer serve --config /etc/coffer/coffer.toml
              COFFER_ROOT_KEY_FILE=root.key coffer serve --storage postgres://coffer@db:5432/coffer --port 8200
            """)

    @Option(help: "Path to coffer.toml.") var config: String?
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on.") var port: Int?
    @Option(help: "Storage URL: sqlite:///path/coffer.db or postgres://user:pass@host/db.") var storage: String?

    func run() async throws {
        await ServerRunner.withRuntime(config: config, host: host, port: port, storage: storage, auditTransport: HTTPAuditTransport()) {
            configuration, runtime, logger in
            if try await runtime.storage.tenants.systemTenant() == nil {
                logger.warning("Coffer is not initialised: run `coffer operator init` against this storage to create the root token")
            }
            try await ServerRunner.serve(runtime: runtime, logger: logger) { boundPort in
                logger.info(
                    "listening",
                    metadata: ["address": .string("\(configuration.tlsEnabled ? "https" : "http")://\(configuration.host):\(boundPort)")])
            }
        }
    }
}

/// Loads the server configuration: defaults, then the file, then `COFFER_*` variables, then flags.
enum ServeConfiguration {
    static func load(config: String?, host: String?, port: Int?, storage: String?) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else {
                throw CofferError(.configInvalid, "cannot read config file \(config)")
            }
            try ConfigFile.apply(try ConfigFile.parse(String(decoding: data, as: UTF8.self)), to: &configuration)
        }
        try ConfigFile.applyEnvironment(ProcessInfo.processInfo.environment, to: &configuration)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let storage { configuration.storageURL = storage }
        try configuration.validate()
        return configuration
    }
}

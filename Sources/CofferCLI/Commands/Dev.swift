import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer dev`: a working vault in one command (SQLite, generated root key, printed root token).
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a development server on embedded SQLite.",
        discussion: """
            Creates ./.coffer (database and a generated root key, 0600) on first start, prints the root token
            once and saves it to ~/.config/coffer/token unless that file holds another running server's token.
            Nothing is created if the port is taken.

            Examples:
              coffer dev                          # http://127.0.0.1:8200
              coffer dev --port 0                 # any free port (printed)
              coffer dev --env-ref 'APP_*'        # allow $APP_… references in stored values
            """)

    @Option(help: "Port to listen on (0 picks a free port).") var port: Int = 8200
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Folder for the database and the generated root key.") var dataDir: String = ".coffer"
    @Option(name: .customLong("env-ref"), help: "Allow $NAME references to these variables (NAME or PREFIX_*). Repeatable.")
    var envReferences: [String] = []
    @Option(help: "Also write audit entries as JSON lines to this file (0600).") var auditFile: String?
    @Flag(help: "Do not audit requests (benchmark baseline only).") var noAudit = false

    func run() async throws {
        ServerRunner.restrictFileModes()
        let logger = ServerRunner.logger(label: "coffer")
        // Nothing is created, and no token written, unless the server can listen.
        if let problem = ListenProbe.problem(host: host, port: port) {
            StartupFailure.report(
                CofferError(
                    .configInvalid,
                    "cannot listen on \(host):\(port): \(problem) (another coffer dev?); stop it, or start with --port N (0 picks a free port)"))
        }
        let createdDataDir = !FileManager.default.fileExists(atPath: dataDir)
        do {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let source = try rootKeySource()
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.storageURL = "sqlite://\(dataDir)/coffer.db"
            configuration.devMode = true
            configuration.authAllowInternalURLs = true
            configuration.alertsAllowInternalURLs = true
            configuration.smtpHost = ProcessInfo.processInfo.environment["COFFER_SMTP_HOST"]
            configuration.smtpPort = ProcessInfo.processInfo.environment["COFFER_SMTP_PORT"].flatMap { Int($0) } ?? 25
            configuration.envReferencePatterns = envReferences
            configuration.auditFile = auditFile
            configuration.auditEnabled = !noAudit
            let runtime = try await CofferRuntime.start(
                configuration: configuration, rootKey: source, auditTransport: HTTPAuditTransport(), logger: logger)
            let initialised = try await runtime.tenants.initialise(name: "root", environment: .development)
            let dataDir = self.dataDir
            let host = configuration.host
            let listening = ListeningFlag()
            do {
                try await ServerRunner.serve(runtime: runtime, logger: logger) { boundPort in
                    listening.set()
                    let address = "http://\(host):\(boundPort)"
                    var lines = [
                        "Coffer dev server (embedded SQLite; not for production)",
                        "  Listening:  \(address)",
                        "  Data:       \(dataDir)/coffer.db (root key in \(dataDir)/root.key, mode 0600)",
                    ]
                    if let (_, token) = initialised {
                        lines.append("  Root token: \(token)")
                        lines.append("  The root token is shown once. \(await DevTokenFile.save(token, serverAddress: address))")
                    } else {
                        lines.append("  Already initialised: use the root token printed at first start (or `coffer login`).")
                    }
                    lines.append("  export COFFER_ADDR=\(address)")
                    lines.append("Ready.")
                    ServerRunner.say(lines.joined(separator: "\n"))
                }
            } catch {
                await runtime.shutdown()
                // A vault made by this start that never served is not left behind.
                if createdDataDir && !listening.value { try? FileManager.default.removeItem(atPath: dataDir) }
                throw error
            }
            await runtime.shutdown()
        } catch {
            StartupFailure.report(error)
        }
    }

    /// The root key: from the environment if set, else `<data-dir>/root.key`, generated (0600) on first start.
    func rootKeySource() throws -> RootKeySource {
        let environment = ProcessInfo.processInfo.environment
        if ["COFFER_ROOT_KEY", "COFFER_ROOT_KEY_FILE", "COFFER_ROOT_PASSPHRASE"].contains(where: { !(environment[$0] ?? "").isEmpty }) {
            return try RootKeySource.fromEnvironment(environment)
        }
        let keyPath = "\(dataDir)/root.key"
        if !FileManager.default.fileExists(atPath: keyPath) {
            try SecureFile.write(Array((RootKey.generate().exportBase64() + "\n").utf8), to: keyPath)
        }
        return .key(try RootKeySource.readKeyFile(keyPath), origin: "the dev root key file \(keyPath)")
    }
}

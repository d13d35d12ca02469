import CofferCore
import CofferServer
import Foundation
import Hummingbird
import Logging

/// Starts a runtime and serves it until SIGINT/SIGTERM; shared by `coffer dev` and `coffer serve`.
enum ServerRunner {
    /// Makes the process logger: JSON-free single lines on stderr at `COFFER_LOG_LEVEL` (default info).
    static func logger(label: String) -> Logger {
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = ProcessInfo.processInfo.environment["COFFER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    /// Opens a runtime from the config file, `COFFER_*` variables and flags, with the root key from the
    /// environment, runs `body`, and always closes storage. Failures end the process with a clear message
    /// and exit status 1 (never a crash, never the key).
    static func withRuntime(
        config: String?, host: String? = nil, port: Int? = nil, storage: String?, auditTransport: (any AuditHTTPTransport)? = nil,
        _ body: (ServerConfiguration, CofferRuntime, Logger) async throws -> Void
    ) async {
        restrictFileModes()
        let logger = logger(label: "coffer")
        do {
            let configuration = try ServeConfiguration.load(config: config, host: host, port: port, storage: storage)
            let source = try RootKeySource.fromEnvironment(ProcessInfo.processInfo.environment)
            let runtime = try await CofferRuntime.start(configuration: configuration, rootKey: source, auditTransport: auditTransport, logger: logger)
            do {
                try await body(configuration, runtime, logger)
            } catch {
                await runtime.shutdown()
                throw error
            }
            await runtime.shutdown()
        } catch {
            StartupFailure.report(error)
        }
    }

    /// Serves `runtime` until SIGINT/SIGTERM; `ready` is called with the bound port once listening.
    /// The caller owns the runtime and closes it afterwards.
    static func serve(runtime: CofferRuntime, logger: Logger, ready: @escaping @Sendable (Int) async -> Void) async throws {
        let app = try CofferApplication.make(runtime: runtime, logger: logger, onServerRunning: ready)
        let interval = runtime.configuration.auditCheckpointSeconds
        let checkpoints = Task {
            guard interval > 0, runtime.configuration.auditEnabled else { return }
            // Cancellation (shutdown) ends the loop quietly, before or during the sleep.
            while (try? await Task.sleep(for: .seconds(interval))) != nil {
                do { try await runtime.checkpointAll() } catch  where !Task.isCancelled {
                    logger.warning("audit checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        }
        let usage = Task {
            let configuration = runtime.configuration
            var sinceSummary = 0
            var sinceSweep = 0
            while (try? await Task.sleep(for: .seconds(configuration.apiKeyUsageFlushSeconds))) != nil {
                do { try await runtime.flushKeyUsage() } catch  where !Task.isCancelled {
                    logger.warning("API key last-use flush failed", metadata: ["error": "\(error)"])
                }
                sinceSummary += configuration.apiKeyUsageFlushSeconds
                sinceSweep += configuration.apiKeyUsageFlushSeconds
                if sinceSweep >= 60 {
                    sinceSweep = 0
                    do { try await runtime.gateway.sweepNonces() } catch  where !Task.isCancelled {
                        logger.warning("gateway nonce sweep failed", metadata: ["error": "\(error)"])
                    }
                    do { try await runtime.wrapping.purgeExpired() } catch  where !Task.isCancelled {
                        logger.warning("expired wrap purge failed", metadata: ["error": "\(error)"])
                    }
                    do { try await runtime.deleteDueVersions() } catch  where !Task.isCancelled {
                        logger.warning("delete_version_after job failed", metadata: ["error": "\(error)"])
                    }
                }
                guard configuration.auditEnabled, sinceSummary >= configuration.apiKeyVerifySummarySeconds else { continue }
                sinceSummary = 0
                do { try await runtime.writeVerifySummaries() } catch  where !Task.isCancelled {
                    logger.warning("verify summary failed", metadata: ["error": "\(error)"])
                }
            }
        }
        defer {
            checkpoints.cancel()
            usage.cancel()
        }
        try await app.runService()
    }

    /// Makes every file the server creates (database, WAL, keys) owner-only.
    static func restrictFileModes() {
        umask(0o077)
    }

    /// Prints to stdout and flushes, so a parent process sees it at once.
    static func say(_ text: String) {
        print(text)
        fflush(nil)
    }
}

/// Maps start-up failures to a clear message and exit status (never a crash, never the key).
enum StartupFailure {
    static func report(_ error: any Error) -> Never {
        if let error = error as? CofferError {
            FileHandle.standardError.write(Data("coffer: \(error.code.rawValue): \(error.message)\n".utf8))
        } else {
            FileHandle.standardError.write(Data("coffer: failed to start: \(error)\n".utf8))
        }
        exit(1)
    }
}

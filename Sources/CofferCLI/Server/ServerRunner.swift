import CofferCore
import CofferServer
import Foundation
import Hummingbird
import Logging
import Synchronization

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
        // The separate, unauthenticated metrics listener, when configured: started once the main listener
        // is up, so the first address a server prints is always its API's.
        let metricsStarted = Mutex<Task<Void, Never>?>(nil)
        let startMetrics: @Sendable () -> Void = {
            guard let address = try? runtime.configuration.metricsAddress() else { return }
            let task = Task {
                let listener = CofferApplication.metricsListener(runtime: runtime, host: address.host, port: address.port, logger: logger) {
                    port in logger.info("serving metrics", metadata: ["metrics_url": .string("http://\(address.host):\(port)/metrics")])
                }
                do { try await listener.runService() } catch {
                    if !Task.isCancelled { logger.error("the metrics listener stopped", metadata: ["error": "\(error)"]) }
                }
            }
            metricsStarted.withLock { $0 = task }
        }
        let app = try CofferApplication.make(runtime: runtime, logger: logger) { port in
            await ready(port)
            startMetrics()
        }
        // Cluster-wide jobs run on exactly one instance: the one holding the jobs lock.
        let leader = Task { await BackgroundJobs(runtime: runtime, logger: logger).lead() }
        // Per-instance work: each instance flushes its own pending key usage and verify tallies.
        let usage = Task {
            let configuration = runtime.configuration
            var sinceSummary = 0
            while (try? await Task.sleep(for: .seconds(configuration.apiKeyUsageFlushSeconds))) != nil {
                do { try await runtime.flushKeyUsage() } catch  where !Task.isCancelled {
                    logger.warning("API key last-use flush failed", metadata: ["error": "\(error)"])
                }
                sinceSummary += configuration.apiKeyUsageFlushSeconds
                guard configuration.auditEnabled, sinceSummary >= configuration.apiKeyVerifySummarySeconds else { continue }
                sinceSummary = 0
                do { try await runtime.writeVerifySummaries() } catch  where !Task.isCancelled {
                    logger.warning("verify summary failed", metadata: ["error": "\(error)"])
                }
            }
        }
        // Per-instance: shared rate-limit leases older than a second hand their unused units back.
        let leases = Task {
            guard let leased = runtime.storage.rateLimits as? LeasedRateLimiter else { return }
            while (try? await Task.sleep(for: .seconds(1))) != nil { await leased.releaseExpired(now: runtime.clock.nowMillis) }
        }
        defer {
            leader.cancel()
            metricsStarted.withLock { $0?.cancel() }
            usage.cancel()
            leases.cancel()
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

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

    /// Serves `runtime`; `ready` is called with the bound port once listening.
    static func serve(runtime: CofferRuntime, logger: Logger, ready: @escaping @Sendable (Int) async -> Void) async throws {
        let app = try CofferApplication.make(runtime: runtime, logger: logger, onServerRunning: ready)
        let interval = runtime.configuration.auditCheckpointSeconds
        let checkpoints = Task {
            guard interval > 0, runtime.configuration.auditEnabled else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                do { try await runtime.checkpointAll() } catch { logger.warning("audit checkpoint failed", metadata: ["error": "\(error)"]) }
            }
        }
        defer { checkpoints.cancel() }
        do {
            try await app.runService()
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
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

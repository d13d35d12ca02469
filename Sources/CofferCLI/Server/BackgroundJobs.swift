import CofferServer
import Logging
import Synchronization

/// The cluster-wide background jobs — audit checkpoints, the gateway nonce sweep, the expired-wrap
/// purge and `delete_version_after` — run on exactly one instance: the one holding the jobs lock (a
/// PostgreSQL advisory lock on one pooled connection). Every other instance retries every few
/// seconds, so when the leader dies (its connection closes and PostgreSQL releases the lock) another
/// takes over within `retrySeconds`.
struct BackgroundJobs: Sendable {
    let runtime: CofferRuntime
    let logger: Logger
    /// How often a follower tries to take the lead.
    var retrySeconds = 2
    /// How often the leader checks the lock and runs what is due.
    var tickSeconds = 1

    /// Leads whenever it can, until cancelled.
    func lead() async {
        while !Task.isCancelled {
            do {
                let led = try await runtime.storage.whileLeading { stillLeading in
                    logger.info("background jobs: this instance leads")
                    await runJobs(while: stillLeading)
                    logger.info("background jobs: this instance no longer leads")
                }
                if led { continue }
            } catch {
                if !Task.isCancelled { logger.warning("background jobs: cannot take the lead", metadata: ["error": "\(error)"]) }
            }
            guard (try? await Task.sleep(for: .seconds(retrySeconds))) != nil else { return }
        }
    }

    /// Runs each job when due while the lock is held. Re-encryption jobs run beside the ticks (they may
    /// take minutes): a new run starts at a tick when none is going.
    func runJobs(while stillLeading: @escaping @Sendable () async -> Bool) async {
        let checkpointEvery = runtime.configuration.auditEnabled ? runtime.configuration.auditCheckpointSeconds : 0
        var elapsed = 0
        let reencrypting = JobSlot()
        defer { reencrypting.withLock { $0?.cancel() } }
        while (try? await Task.sleep(for: .seconds(tickSeconds))) != nil, await stillLeading() {
            elapsed += tickSeconds
            reencrypting.withLock { current in
                guard current == nil else { return }
                current = Task {
                    await run("re-encryption jobs") { try await runtime.runKeyringJobs(stillLeading: stillLeading) }
                    reencrypting.withLock { $0 = nil }
                }
            }
            if checkpointEvery > 0, elapsed % checkpointEvery == 0 {
                await run("audit checkpoint") { try await runtime.checkpointAll() }
            }
            if elapsed % 60 == 0 {
                await run("gateway nonce sweep") { try await runtime.gateway.sweepNonces() }
                await run("expired wrap purge") { _ = try await runtime.wrapping.purgeExpired() }
                await run("delete_version_after") { _ = try await runtime.deleteDueVersions() }
                await run("quiet alerts") { try await runtime.resolveQuietAlerts() }
                await run("transit auto-rotation") { try await runtime.rotateDueTransitKeys() }
                await run("data-key rotation schedule") { try await runtime.rotateScheduledDataKeys() }
            }
            if elapsed % 3600 == 60 {
                await run("key health alerts") { try await runtime.checkKeyHealth() }
                await run("alert digests") { try await runtime.sendDigests() }
            }
        }
    }

    func run(_ name: String, _ job: () async throws -> Void) async {
        do { try await job() } catch {
            if !Task.isCancelled { logger.warning("background job failed", metadata: ["job": .string(name), "error": "\(error)"]) }
        }
    }
}

/// The one re-encryption run a leader has going, if any.
final class JobSlot: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Reads or changes the slot under its lock.
    func withLock<T>(_ body: (inout Task<Void, Never>?) -> T) -> T { task.withLock { body(&$0) } }
}

import Foundation
import Synchronization

/// One lock for every child process the tests start: Foundation's `Process.run()` on Linux crashed once
/// (a bad pointer in its argument and environment copy) while several tests spawned `openssl` at the same
/// moment. Starting is serialised; the children still run side by side.
private let spawning = Mutex(())

extension Process {
    /// `run()`, one process start at a time across the test process.
    public func runSerially() throws {
        try spawning.withLock { _ in try run() }
    }
}

import CofferCore
import CofferStore
import Synchronization
import Testing

/// Background-job leadership: on PostgreSQL one instance at a time holds the jobs lock, and it is free
/// again once released; on SQLite (one instance by design) it is always held.
@Suite("Leadership conformance")
struct LeadershipConformanceTests {
    @Test(arguments: StorageEngine.available)
    func oneLeaderAtATime(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, url in
            let other = try await SQLStorage.open(url: url)
            let inside = Mutex<[Bool]>([])
            let led = try await storage.whileLeading { stillLeading in
                inside.withLock { $0.append(true) }
                #expect(await stillLeading())
                let second = try await other.whileLeading { _ in inside.withLock { $0.append(false) } }
                // SQLite: both "lead" (a single-instance engine); PostgreSQL: the second is refused.
                #expect(second == (engine == .sqlite))
            }
            #expect(led)
            #expect(inside.withLock { $0 } == (engine == .sqlite ? [true, false] : [true]))
            #expect(try await other.whileLeading { _ in }, "released after the leader finished")
            try await other.shutdown()
        }
    }
}

import CofferCore
import CofferTestSupport
import Synchronization
import Testing

@Suite("Audit group commit")
struct AuditCommitterTests {
    static let record = AuditRecord(
        time: 1, actor: .anonymous, operation: "kv.read", resourceType: "kv", resourceID: "p", clientIP: "", userAgent: "", requestID: "r",
        status: 200, errorCode: "", request: .null)

    /// At most `batchesInFlight` batches are appended at once (a second starts while the first waits for
    /// its commit), never more, and every caller gets its own entry.
    @Test(.timeLimit(.minutes(1)), arguments: [1, 2, 3])
    func batchesOverlapUpToTheConfiguredNumber(batchesInFlight: Int) async throws {
        let store = GatedCountingStore()
        let committer = AuditCommitter(store: store, gather: .zero, batchesInFlight: batchesInFlight)
        let sequences = try await withThrowingTaskGroup(of: Int64.self) { group in
            // One request at a time, each waiting until its batch is held in the store or queued
            // behind the cap: the store never returns until the test opens the gate.
            for index in 1...5 {
                group.addTask { try await committer.append(tenantID: "t", record: Self.record).sequence }
                let expected = min(index, batchesInFlight)
                for _ in 0..<2_000 where store.running < expected { try await Task.sleep(for: .milliseconds(1)) }
                #expect(store.running == expected, "request \(index)")
            }
            try await Task.sleep(for: .milliseconds(50))
            #expect(store.running == batchesInFlight, "never more than the cap")
            store.open()
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(sequences).count == 5, "each caller resumed with its own entry")
        #expect(store.maximumConcurrent == batchesInFlight)
        #expect(store.appended == 5)
    }
}

/// Holds every append until `open()`, numbers entries globally, and records how many appends overlapped.
final class GatedCountingStore: AuditStore {
    struct State {
        var running = 0
        var maximum = 0
        var next: Int64 = 0
    }
    let state = Mutex(State())
    let gate = Gate()
    var running: Int { state.withLock { $0.running } }
    var maximumConcurrent: Int { state.withLock { $0.maximum } }
    var appended: Int64 { state.withLock { $0.next } }

    func open() { gate.open() }

    func append(_ records: [(tenantID: String, record: AuditRecord)]) async throws -> [AuditEntry] {
        state.withLock { state in
            state.running += 1
            state.maximum = max(state.maximum, state.running)
        }
        await gate.pass()
        return state.withLock { state in
            state.running -= 1
            return records.map { item in
                state.next += 1
                return AuditChain.append(tenantID: item.tenantID, after: state.next - 1, previousHash: AuditChain.genesis, record: item.record)
            }
        }
    }
    func head(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8]) { (0, AuditChain.genesis) }
    func anchor(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8])? { nil }
    func entries(tenantID: String, after sequence: Int64, limit: Int) async throws -> [AuditEntry] { [] }
    func query(tenantID: String, _ query: AuditQuery) async throws -> [AuditEntry] { [] }
    func entryHash(tenantID: String, sequence: Int64) async throws -> [UInt8]? { nil }
    func deleteBefore(
        tenantID: String, before: Int64, describe: @escaping @Sendable (AuditRetentionResult) -> AuditRecord
    ) async throws -> AuditRetentionResult {
        AuditRetentionResult(deleted: 0, cutSequence: 0, hashAtCut: AuditChain.genesis)
    }
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws {}
    func checkpoints(tenantID: String) async throws -> [AuditCheckpoint] { [] }
}

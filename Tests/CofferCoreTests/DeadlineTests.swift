import CofferCore
import CofferTestSupport
import Synchronization
import Testing

@Suite("Deadlines on calls that may never return")
struct DeadlineTests {
    @Test func aResultInTimeIsReturned() async throws {
        let value = try await Deadline.run(within: .seconds(5), orThrow: { CofferError(.storageUnavailable, "late") }) { 42 }
        #expect(value == 42)
    }

    /// Reaching the end at all is the point: the operation never returns. (No wall-clock bound: the
    /// CLI suites block the cooperative pool's threads while their processes run, delaying timers.)
    @Test(.timeLimit(.minutes(3))) func anOperationThatNeverReturnsIsCutOff() async throws {
        await expectError(.storageUnavailable) {
            _ = try await Deadline.run(within: .milliseconds(100), orThrow: { CofferError(.storageUnavailable, "late") }) { () async -> Int in
                // Never finishes, and ignores cancellation, like a continuation lost on a dead connection.
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
                return 0
            }
        }
    }

    /// An audit store whose first append hangs forever (its connection died unnoticed): that batch's
    /// requests fail closed with AUDIT_UNAVAILABLE, and later entries are still committed.
    @Test(.timeLimit(.minutes(3))) func aStuckAppendDoesNotHoldLaterEntries() async throws {
        let store = HangingFirstAppendStore()
        let committer = AuditCommitter(store: store, gather: .zero, appendTimeout: .milliseconds(200))
        let record = AuditRecord(
            time: 1, actor: .anonymous, operation: "kv.read", resourceType: "kv", resourceID: "p", clientIP: "", userAgent: "", requestID: "r",
            status: 200, errorCode: "", request: .null)
        await expectError(.auditUnavailable) { _ = try await committer.append(tenantID: "t", record: record) }
        let second = try await committer.append(tenantID: "t", record: record)
        #expect(second.sequence == 1 && store.appends == 2)
    }
}

/// Hangs on its first append; appends normally (sequence 1, 2, …) afterwards.
final class HangingFirstAppendStore: AuditStore {
    let calls = Mutex(0)
    var appends: Int { calls.withLock { $0 } }

    func append(_ records: [(tenantID: String, record: AuditRecord)]) async throws -> [AuditEntry] {
        let call = calls.withLock {
            $0 += 1
            return $0
        }
        if call == 1 { await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in } }
        return records.enumerated().map { index, item in
            AuditChain.append(tenantID: item.tenantID, after: Int64(index), previousHash: AuditChain.genesis, record: item.record)
        }
    }
    func head(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8]) { (0, AuditChain.genesis) }
    func anchor(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8])? { nil }
    func entries(tenantID: String, after sequence: Int64, limit: Int) async throws -> [AuditEntry] { [] }
    func query(tenantID: String, _ query: AuditQuery) async throws -> [AuditEntry] { [] }
    func entryHash(tenantID: String, sequence: Int64) async throws -> [UInt8]? { nil }
    func deleteBefore(tenantID: String, before: Int64, describe: @Sendable (AuditRetentionResult) -> AuditRecord) async throws -> AuditRetentionResult
    {
        AuditRetentionResult(deleted: 0, cutSequence: 0, hashAtCut: AuditChain.genesis)
    }
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws {}
    func checkpoints(tenantID: String) async throws -> [AuditCheckpoint] { [] }
}

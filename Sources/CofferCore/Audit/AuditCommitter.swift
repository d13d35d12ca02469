/// Group commit for audit entries that are not part of a write transaction (reads, failures):
/// concurrent requests' entries are appended together in one transaction, each caller resumed
/// only once its entry is durable.
public actor AuditCommitter {
    private let store: any AuditStore
    private let gatherNanoseconds: UInt64
    private var queue: [(String, AuditRecord, CheckedContinuation<AuditEntry, any Error>)] = []
    private var flushers = 0
    private let batchesInFlight: Int
    private let appendTimeout: Duration
    private let observeBatch: (@Sendable (Int) -> Void)?

    /// Creates a committer over a store. A flush first waits `gather` for more entries to join it:
    /// under load this trades a little latency for far fewer transactions per entry. A batch the store
    /// has not confirmed within `appendTimeout` fails its requests with `AUDIT_UNAVAILABLE` (nothing is
    /// answered without its entry) and the committer goes on with the next batch, so one append stuck
    /// on a dead database connection cannot hold every later request.
    ///
    /// Up to `batchesInFlight` batches are appended at once: while one waits for its commit, the next
    /// is already on its way (on PostgreSQL, where a batch is several round-trips, this keeps requests
    /// from queueing behind one commit at a time). Chains stay linear: the store locks each tenant's
    /// head, so a second batch naming the same tenant continues after the first commits.
    ///
    /// `observeBatch` is told the size of each batch handed to the store (the group-commit sizes metric).
    public init(
        store: any AuditStore, gather: Duration = .milliseconds(1), appendTimeout: Duration = .seconds(10), batchesInFlight: Int = 1,
        observeBatch: (@Sendable (Int) -> Void)? = nil
    ) {
        self.store = store
        self.observeBatch = observeBatch
        self.appendTimeout = appendTimeout
        self.batchesInFlight = max(1, batchesInFlight)
        self.gatherNanoseconds = UInt64(gather.components.seconds) * 1_000_000_000 + UInt64(gather.components.attoseconds / 1_000_000_000)
    }

    /// Appends one record and returns its stored entry once committed.
    public func append(tenantID: String, record: AuditRecord) async throws -> AuditEntry {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((tenantID, record, continuation))
            if flushers < batchesInFlight {
                flushers += 1
                Task.detached { await self.flush() }
            }
        }
    }

    /// Entries waiting for a batch (the audit queue depth).
    public var depth: Int { queue.count }

    private func flush() async {
        if gatherNanoseconds > 0 { try? await Task.sleep(nanoseconds: gatherNanoseconds) }
        while !queue.isEmpty {
            let batch = queue
            queue = []
            observeBatch?(batch.count)
            do {
                let store = self.store
                let records = batch.map { ($0.0, $0.1) }
                let entries = try await Deadline.run(
                    within: appendTimeout, orThrow: { CofferError(.auditUnavailable, "the audit log did not confirm the entry in time") }
                ) { try await store.append(records) }
                for (item, entry) in zip(batch, entries) { item.2.resume(returning: entry) }
            } catch {
                for item in batch { item.2.resume(throwing: error) }
            }
        }
        flushers -= 1
    }
}

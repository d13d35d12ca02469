import Crypto
import Foundation
import Synchronization

/// Audit operations over an ``AuditStore``: redaction keys, durable appends, verification,
/// signed checkpoints, retention and reports. No HTTP, no SQL.
public final class AuditService: Sendable {
    /// Storage.
    public let store: any AuditStore
    /// Group commit for entries outside write transactions.
    public let committer: AuditCommitter
    private let keyring: Keyring
    private let clock: any CofferClock
    private let redactors = Mutex<[String: AuditRedactor]>([:])

    /// Creates the service; `batchesInFlight` and `observeBatch` are the committer's (see ``AuditCommitter``).
    public init(
        store: any AuditStore, keyring: Keyring, clock: any CofferClock, batchesInFlight: Int = 1,
        observeBatch: (@Sendable (Int) -> Void)? = nil
    ) {
        self.store = store
        self.committer = AuditCommitter(store: store, batchesInFlight: batchesInFlight, observeBatch: observeBatch)
        self.keyring = keyring
        self.clock = clock
    }

    /// The redactor for a tenant (HMAC-SHA256 under the tenant's audit key); `SEALED` while sealed.
    public func redactor(tenantID: String) throws(CofferError) -> AuditRedactor {
        if let cached = redactors.withLock({ $0[tenantID] }) { return cached }
        let redactor = AuditRedactor(key: AuditRedactor.tenantKey(auditKey: try keyring.auditKey(), tenantID: tenantID))
        redactors.withLock { $0[tenantID] = redactor }
        return redactor
    }

    /// Appends one record durably (group-committed).
    public func record(tenantID: String, _ record: AuditRecord) async throws -> AuditEntry {
        try await committer.append(tenantID: tenantID, record: record)
    }

    /// Walks a tenant's chain from its anchor and checks it against `checkpoints` (signatures included).
    public func verify(
        tenantID: String, checkpoints: [AuditCheckpoint] = [], trustedKey: [UInt8]? = nil, pageSize: Int = 5000
    ) async throws
        -> AuditVerifier.Result
    {
        let anchor = try await store.anchor(tenantID: tenantID)
        var verifier = AuditVerifier(tenantID: tenantID, anchor: anchor)
        var after = anchor?.sequence ?? 0
        while true {
            let page = try await store.entries(tenantID: tenantID, after: after, limit: pageSize)
            for entry in page { verifier.feed(entry) }
            guard let last = page.last, verifier.current.ok else { break }
            after = last.sequence
        }
        // Rows removed from the end (or the head moved) show as a chain shorter or longer than its head.
        let head = try await store.head(tenantID: tenantID)
        if verifier.current.ok, head.sequence != verifier.current.lastSequence {
            var result = verifier.current
            result.failure = AuditVerifier.Failure(
                sequence: min(head.sequence, verifier.current.lastSequence) + 1,
                reason: "the chain ends at \(verifier.current.lastSequence) but its head records \(head.sequence)")
            return result
        }
        for checkpoint in checkpoints where checkpoint.tenantID == tenantID {
            guard checkpoint.verifySignature(trustedKey: trustedKey) else {
                var result = verifier.current
                result.failure = AuditVerifier.Failure(sequence: checkpoint.sequence, reason: "checkpoint signature is invalid")
                return result
            }
        }
        var hashes: [Int64: [UInt8]] = [:]
        for checkpoint in checkpoints where checkpoint.tenantID == tenantID && checkpoint.sequence > (anchor?.sequence ?? 0) {
            hashes[checkpoint.sequence] = try await store.entryHash(tenantID: tenantID, sequence: checkpoint.sequence)
        }
        return verifier.finish(checkpoints: checkpoints) { hashes[$0] }
    }

    /// Entries matching `query`, judged on their hashed content, never on the index columns alone: the
    /// chain is read in order and each entry's stored columns are checked against its content, so an
    /// edited column can neither hide an entry from a filter nor make one match. An entry whose columns
    /// or content do not verify stops the query with `STORAGE_CORRUPT` naming its sequence.
    public func query(tenantID: String, _ query: AuditQuery) async throws -> [AuditEntry] {
        let limit = max(1, min(query.limit, 1000))
        var found: [AuditEntry] = []
        var after = query.afterSequence
        while found.count < limit {
            let page = try await store.entries(tenantID: tenantID, after: after, limit: 1000)
            for entry in page {
                guard let record = entry.record,
                    entry.columns.map({ $0.mismatch(with: record) == nil }) ?? true,
                    ConstantTime.equals(AuditChain.hash(previous: entry.previousHash, canonical: entry.canonical), entry.entryHash)
                else {
                    throw CofferError(
                        .storageCorrupt, "the audit chain is broken at sequence \(entry.sequence); run audit verify before trusting any answer")
                }
                if query.matches(record) {
                    found.append(entry)
                    if found.count == limit { break }
                }
            }
            guard let last = page.last, page.count == 1000 else { break }
            after = last.sequence
        }
        return found
    }

    /// Signs and stores a checkpoint of the tenant's current head. `nil` for an empty chain.
    @discardableResult
    public func checkpoint(tenantID: String) async throws -> AuditCheckpoint? {
        let head = try await store.head(tenantID: tenantID)
        guard head.sequence > 0 else { return nil }
        let checkpoint = try AuditCheckpoint.sign(
            tenantID: tenantID, sequence: head.sequence, headHash: head.hash, time: clock.nowMillis, key: try keyring.auditSigningKey())
        try await store.addCheckpoint(checkpoint)
        return checkpoint
    }

    /// The public key that signs checkpoints; `SEALED` while sealed.
    public func signingPublicKey() throws(CofferError) -> [UInt8] { Array(try keyring.auditSigningKey().publicKey.rawRepresentation) }

    /// Forgets the per-tenant redaction keys (when the keyring is sealed).
    public func forgetKeys() { redactors.withLock { $0 = [:] } }

    /// Deletes entries older than `before`; the deletion is itself recorded (range, count, head hash at the
    /// cut, and every stored checkpoint at or below the cut, each matched first). Refused with
    /// `STORAGE_CORRUPT` unless the whole chain verifies against its stored checkpoints beforehand:
    /// retention never deletes the evidence of a break.
    public func retain(tenantID: String, before: Int64, by actor: AuditActor, requestID: String) async throws -> AuditRetentionResult {
        let stored = try await store.checkpoints(tenantID: tenantID)
        let check = try await verify(tenantID: tenantID, checkpoints: stored)
        if let failure = check.failure {
            throw CofferError(
                .storageCorrupt, "the audit chain does not verify at sequence \(failure.sequence) (\(failure.reason)); nothing was deleted")
        }
        let matched = Dictionary(stored.map { ($0.sequence, $0.headHash) }, uniquingKeysWith: { first, _ in first })
        let now = clock.nowMillis
        return try await store.deleteBefore(tenantID: tenantID, before: before) { result in
            AuditRecord(
                time: now, actor: actor, operation: AuditRetention.operation, resourceType: "audit", resourceID: tenantID, clientIP: "",
                userAgent: "", requestID: requestID, status: 200, errorCode: "", request: .null,
                details: [
                    "deleted": String(result.deleted), "cut_sequence": String(result.cutSequence), "hash_at_cut": result.hashAtCut.hexString,
                    "before": Timestamp.rfc3339(before),
                    "checkpoints_verified": AuditRetention.formatCheckpoints(matched.filter { $0.key <= result.cutSequence }),
                ])
        }
    }
}

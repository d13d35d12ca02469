import Crypto
import Foundation

/// The per-tenant hash chain: `entry_hash = SHA-256(previous_hash ‖ canonical bytes of the entry)`.
public enum AuditChain {
    /// The previous hash of the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    struct Envelope: Codable {
        var tenant: String
        var sequence: Int64
        var record: AuditRecord
    }

    /// Canonical bytes of a record at a position: JSON with sorted keys and no whitespace
    /// (`{"record":{…},"sequence":N,"tenant":"T"}`).
    public static func canonical(tenantID: String, sequence: Int64, record: AuditRecord) -> [UInt8] {
        let value: JSONValue = [
            "tenant": .string(tenantID), "sequence": .int(sequence),
            "record": [
                "time": .int(record.time), "operation": .string(record.operation), "resource_type": .string(record.resourceType),
                "resource_id": .string(record.resourceID), "client_ip": .string(record.clientIP), "user_agent": .string(record.userAgent),
                "request_id": .string(record.requestID), "status": .int(record.status), "error_code": .string(record.errorCode),
                "request": record.request, "details": .stringMap(record.details),
                "actor": [
                    "kind": .string(record.actor.kind), "id": .string(record.actor.id), "role": .string(record.actor.role),
                    "display_name": .string(record.actor.displayName),
                ],
            ],
        ]
        return value.canonicalBytes()
    }

    static func decode(_ canonical: [UInt8]) -> Envelope? {
        try? JSONDecoder().decode(Envelope.self, from: Data(canonical))
    }

    /// The hash linking an entry to its predecessor.
    public static func hash(previous: [UInt8], canonical: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Array(hasher.finalize())
    }

    /// Builds the next entry after `(sequence, hash)`.
    public static func append(tenantID: String, after sequence: Int64, previousHash: [UInt8], record: AuditRecord) -> AuditEntry {
        let canonical = canonical(tenantID: tenantID, sequence: sequence + 1, record: record)
        return AuditEntry(
            tenantID: tenantID, sequence: sequence + 1, canonical: canonical, previousHash: previousHash,
            entryHash: hash(previous: previousHash, canonical: canonical))
    }
}

/// Walks a chain page by page and reports the first broken link. A pure state machine: feed it
/// entries in sequence order, then ask for the result.
public struct AuditVerifier: Sendable {
    /// What verification found.
    public struct Result: Sendable, Equatable {
        /// Entries checked.
        public var checked: Int
        /// Last sequence seen.
        public var lastSequence: Int64
        /// Hash of the last entry seen.
        public var headHash: [UInt8]
        /// The first problem, if any.
        public var failure: Failure?
        /// Whether the chain is intact.
        public var ok: Bool { failure == nil }
    }

    /// A broken link.
    public struct Failure: Sendable, Equatable {
        /// Sequence where the chain breaks.
        public var sequence: Int64
        /// Why, in words.
        public var reason: String
    }

    private let tenantID: String
    private var expectedSequence: Int64
    private var previousHash: [UInt8]
    private var result: Result

    /// Starts at the beginning of a chain, or after a retention cut `(sequence, hash)`.
    public init(tenantID: String, anchor: (sequence: Int64, hash: [UInt8])? = nil) {
        self.tenantID = tenantID
        self.expectedSequence = (anchor?.sequence ?? 0) + 1
        self.previousHash = anchor?.hash ?? AuditChain.genesis
        self.result = Result(checked: 0, lastSequence: anchor?.sequence ?? 0, headHash: anchor?.hash ?? AuditChain.genesis, failure: nil)
    }

    /// Checks the next entry; after the first failure further entries are ignored.
    public mutating func feed(_ entry: AuditEntry) {
        guard result.failure == nil else { return }
        func fail(_ reason: String) { result.failure = Failure(sequence: entry.sequence, reason: reason) }
        guard entry.sequence == expectedSequence else {
            return fail(entry.sequence > expectedSequence ? "entries \(expectedSequence)..\(entry.sequence - 1) are missing" : "entry out of order")
        }
        guard entry.tenantID == tenantID else { return fail("entry belongs to another tenant") }
        guard ConstantTime.equals(entry.previousHash, previousHash) else { return fail("previous hash does not match the preceding entry") }
        guard ConstantTime.equals(AuditChain.hash(previous: previousHash, canonical: entry.canonical), entry.entryHash) else {
            return fail("entry content does not match its hash")
        }
        // Canonical JSON has sorted keys, so it ends with its position: `,"sequence":N,"tenant":"T"}`.
        // Comparing that suffix avoids decoding a million entries.
        let suffix = Array(",\"sequence\":\(entry.sequence),\"tenant\":\"\(tenantID)\"}".utf8)
        guard entry.canonical.count > suffix.count, entry.canonical.suffix(suffix.count).elementsEqual(suffix) else {
            return fail("entry content names another position")
        }
        previousHash = entry.entryHash
        expectedSequence += 1
        result.checked += 1
        result.lastSequence = entry.sequence
        result.headHash = entry.entryHash
    }

    /// Checks the chain's end against signed checkpoints: a checkpoint beyond the end means truncation;
    /// a checkpoint whose hash differs from the entry at its sequence means a rewrite.
    public mutating func finish(checkpoints: [AuditCheckpoint] = [], hashAt: (Int64) -> [UInt8]?) -> Result {
        guard result.failure == nil else { return result }
        for checkpoint in checkpoints.sorted(by: { $0.sequence < $1.sequence }) where checkpoint.tenantID == tenantID {
            if checkpoint.sequence > result.lastSequence {
                result.failure = Failure(
                    sequence: result.lastSequence + 1,
                    reason: "truncated: checkpoint \(checkpoint.sequence) is beyond the last entry \(result.lastSequence)")
                return result
            }
            if let hash = hashAt(checkpoint.sequence), !ConstantTime.equals(hash, checkpoint.headHash) {
                result.failure = Failure(sequence: checkpoint.sequence, reason: "rewritten: entry differs from the signed checkpoint")
                return result
            }
        }
        return result
    }

    /// The result so far.
    public var current: Result { result }
}

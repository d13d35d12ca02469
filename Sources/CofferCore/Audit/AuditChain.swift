import Crypto
import Foundation

/// The per-tenant hash chain: `entry_hash = SHA-256(previous_hash ‖ canonical bytes of the entry)`.
public enum AuditChain {
    /// The previous hash of the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    struct Envelope {
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

    /// The position and record that canonical bytes hold; `nil` unless every field is present with
    /// its type. Parsed with Coffer's strict parser, so request bodies keep their numbers as written.
    static func decode(_ canonical: [UInt8]) -> Envelope? {
        guard let value = JSONValue.parse(canonical), let tenant = value["tenant"]?.stringValue,
            let sequence = value["sequence"]?.intValue, let record = value["record"], let actor = record["actor"],
            let time = record["time"]?.intValue, let status = record["status"]?.intValue,
            let kind = actor["kind"]?.stringValue, let actorID = actor["id"]?.stringValue, let role = actor["role"]?.stringValue,
            let displayName = actor["display_name"]?.stringValue,
            let operation = record["operation"]?.stringValue, let resourceType = record["resource_type"]?.stringValue,
            let resourceID = record["resource_id"]?.stringValue, let clientIP = record["client_ip"]?.stringValue,
            let userAgent = record["user_agent"]?.stringValue, let requestID = record["request_id"]?.stringValue,
            let errorCode = record["error_code"]?.stringValue, let request = record["request"], let detailMembers = record["details"]?.objectValue
        else { return nil }
        var details: [String: String] = [:]
        for (name, member) in detailMembers {
            guard let text = member.stringValue else { return nil }
            details[name] = text
        }
        return Envelope(
            tenant: tenant, sequence: Int64(sequence),
            record: AuditRecord(
                time: Int64(time), actor: AuditActor(kind: kind, id: actorID, role: role, displayName: displayName), operation: operation,
                resourceType: resourceType, resourceID: resourceID, clientIP: clientIP, userAgent: userAgent, requestID: requestID,
                status: status, errorCode: errorCode, request: request, details: details))
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
///
/// Every entry is checked in full: its link, its hash, that its content is a record naming its own
/// tenant and position, and that every stored index column equals the value inside the hashed content.
/// A chain that starts after a retention cut (an anchor) is accepted only if the chain itself holds the
/// `audit.retention.cut` record that the genuine cut wrote, naming that anchor; a checkpoint at or below
/// the anchor is matched through that record or reported as a failure, never skipped.
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
        /// Checkpoints actually matched (against an entry, or through the retention record).
        public var checkpointsChecked: Int = 0
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

    /// What the last retention record in the chain says it cut.
    public struct RetentionRecord: Sendable, Equatable {
        /// The last deleted sequence.
        public var cutSequence: Int64
        /// Hash of the last deleted entry.
        public var hashAtCut: [UInt8]
        /// Checkpoints at or below the cut that the retention run matched before deleting, by sequence.
        public var checkpoints: [Int64: [UInt8]]

        /// Parses a retention record's details; `nil` if they are not a retention record's.
        public init?(_ record: AuditRecord) {
            guard record.operation == AuditRetention.operation, let cut = record.details["cut_sequence"].flatMap({ Int64($0) }),
                let hash = record.details["hash_at_cut"].flatMap({ [UInt8](hex: $0) }),
                let checkpoints = AuditRetention.parseCheckpoints(record.details["checkpoints_verified"] ?? "")
            else { return nil }
            self.cutSequence = cut
            self.hashAtCut = hash
            self.checkpoints = checkpoints
        }
    }

    private let tenantID: String
    private let anchor: (sequence: Int64, hash: [UInt8])?
    private var expectedSequence: Int64
    private var previousHash: [UInt8]
    private var result: Result
    private var lastRetention: RetentionRecord?

    /// Starts at the beginning of a chain, or after a retention cut `(sequence, hash)`.
    public init(tenantID: String, anchor: (sequence: Int64, hash: [UInt8])? = nil) {
        self.tenantID = tenantID
        self.anchor = anchor
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
        guard let envelope = AuditChain.decode(entry.canonical) else { return fail("entry content is not an audit record") }
        guard envelope.tenant == tenantID, envelope.sequence == entry.sequence else { return fail("entry content names another position") }
        if let columns = entry.columns, let column = columns.mismatch(with: envelope.record) {
            return fail("stored column \(column) differs from the hashed entry")
        }
        if envelope.record.operation == AuditRetention.operation {
            guard let retention = RetentionRecord(envelope.record) else { return fail("a retention record is malformed") }
            lastRetention = retention
        }
        previousHash = entry.entryHash
        expectedSequence += 1
        result.checked += 1
        result.lastSequence = entry.sequence
        result.headHash = entry.entryHash
    }

    /// Checks the anchor against the chain's own retention record, then the chain's end against signed
    /// checkpoints: a checkpoint beyond the end means truncation; a checkpoint whose hash differs from
    /// the entry at its sequence means a rewrite; a checkpoint at or below the anchor must be the one the
    /// retention run matched.
    public mutating func finish(checkpoints: [AuditCheckpoint] = [], hashAt: (Int64) -> [UInt8]?) -> Result {
        guard result.failure == nil else { return result }
        if let anchor {
            guard let retention = lastRetention, retention.cutSequence == anchor.sequence,
                ConstantTime.equals(retention.hashAtCut, anchor.hash)
            else {
                result.failure = Failure(
                    sequence: anchor.sequence,
                    reason: "the retention anchor at \(anchor.sequence) is not the one the chain's last retention record names (forged anchor?)")
                return result
            }
        }
        for checkpoint in checkpoints.sorted(by: { $0.sequence < $1.sequence }) where checkpoint.tenantID == tenantID {
            if let anchor, checkpoint.sequence <= anchor.sequence {
                let matched: [UInt8]? = checkpoint.sequence == anchor.sequence ? anchor.hash : lastRetention?.checkpoints[checkpoint.sequence]
                guard let matched, ConstantTime.equals(matched, checkpoint.headHash) else {
                    result.failure = Failure(
                        sequence: checkpoint.sequence,
                        reason: "checkpoint \(checkpoint.sequence) is before the retention cut and was not matched by the retention run")
                    return result
                }
                result.checkpointsChecked += 1
                continue
            }
            if checkpoint.sequence > result.lastSequence {
                result.failure = Failure(
                    sequence: result.lastSequence + 1,
                    reason: "truncated: checkpoint \(checkpoint.sequence) is beyond the last entry \(result.lastSequence)")
                return result
            }
            guard let hash = hashAt(checkpoint.sequence), ConstantTime.equals(hash, checkpoint.headHash) else {
                result.failure = Failure(sequence: checkpoint.sequence, reason: "rewritten: entry differs from the signed checkpoint")
                return result
            }
            result.checkpointsChecked += 1
        }
        return result
    }

    /// The result so far.
    public var current: Result { result }
}

/// The retention record's conventions, shared by the retention run and the verifier.
public enum AuditRetention {
    /// The operation name of the record a retention cut appends.
    public static let operation = "audit.retention.cut"

    /// `seq:hexhash,seq:hexhash`.
    public static func formatCheckpoints(_ checkpoints: [Int64: [UInt8]]) -> String {
        checkpoints.keys.sorted().map { "\($0):\(checkpoints[$0]?.hexString ?? "")" }.joined(separator: ",")
    }

    /// Parses ``formatCheckpoints(_:)``; `nil` if malformed.
    public static func parseCheckpoints(_ text: String) -> [Int64: [UInt8]]? {
        var out: [Int64: [UInt8]] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let sequence = Int64(parts[0]), let hash = [UInt8](hex: String(parts[1])), hash.count == 32 else { return nil }
            out[sequence] = hash
        }
        return out
    }
}

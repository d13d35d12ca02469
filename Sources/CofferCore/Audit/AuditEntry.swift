/// Who made an audited request. Never holds a secret: tokens appear by accessor only.
public struct AuditActor: Sendable, Hashable, Codable {
    /// `token`, `api_key` or `anonymous`.
    public var kind: String
    /// Accessor or key id; empty for anonymous callers.
    public var id: String
    /// Role at the time of the request.
    public var role: String
    /// Human label of the credential.
    public var displayName: String

    /// Creates an actor.
    public init(kind: String, id: String, role: String, displayName: String) {
        self.kind = kind
        self.id = id
        self.role = role
        self.displayName = displayName
    }

    /// An unauthenticated caller.
    public static let anonymous = AuditActor(kind: "anonymous", id: "", role: "", displayName: "")

    enum CodingKeys: String, CodingKey {
        case kind, id, role
        case displayName = "display_name"
    }
}

/// What an audit entry says happened, before it is placed in a chain.
public struct AuditRecord: Sendable, Hashable {
    /// Time, ms since epoch (UTC).
    public var time: Int64
    /// Caller.
    public var actor: AuditActor
    /// Operation, e.g. `kv.write`, `token.create`, `auth.failed`.
    public var operation: String
    /// Resource type, e.g. `kv`, `token`, `tenant`.
    public var resourceType: String
    /// Resource id or path.
    public var resourceID: String
    /// Client address.
    public var clientIP: String
    /// Client user agent.
    public var userAgent: String
    /// Request id.
    public var requestID: String
    /// HTTP status of the outcome.
    public var status: Int
    /// Stable error code, empty on success.
    public var errorCode: String
    /// The request body with every sensitive value replaced by its HMAC.
    public var request: JSONValue
    /// Extra facts (proxy target and duration, algorithm, …).
    public var details: [String: String]

    /// Creates a record.
    public init(
        time: Int64, actor: AuditActor, operation: String, resourceType: String, resourceID: String, clientIP: String, userAgent: String,
        requestID: String, status: Int, errorCode: String, request: JSONValue, details: [String: String] = [:]
    ) {
        self.time = time
        self.actor = actor
        self.operation = operation
        self.resourceType = resourceType
        self.resourceID = resourceID
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.requestID = requestID
        self.status = status
        self.errorCode = errorCode
        self.request = request
        self.details = details
    }

    /// Whether the outcome was a success (2xx).
    public var succeeded: Bool { (200..<300).contains(status) }
}

/// The columns stored beside an entry so it can be found by index: copies of values inside the hashed
/// content, and so checked against it whenever an entry is verified or returned by a filtered query.
public struct AuditColumns: Sendable, Hashable {
    /// `created_at`: the record's time, ms.
    public var time: Int64
    /// `actor_id`.
    public var actorID: String
    /// `operation`.
    public var operation: String
    /// `status`.
    public var status: Int
    /// `request_id`.
    public var requestID: String

    /// Creates the column values.
    public init(time: Int64, actorID: String, operation: String, status: Int, requestID: String) {
        self.time = time
        self.actorID = actorID
        self.operation = operation
        self.status = status
        self.requestID = requestID
    }

    /// The columns a record should have.
    public init(_ record: AuditRecord) {
        self.init(time: record.time, actorID: record.actor.id, operation: record.operation, status: record.status, requestID: record.requestID)
    }

    /// The first column that differs from `record`'s value, by name; `nil` if all agree.
    public func mismatch(with record: AuditRecord) -> String? {
        let expected = AuditColumns(record)
        if time != expected.time { return "created_at" }
        if actorID != expected.actorID { return "actor_id" }
        if operation != expected.operation { return "operation" }
        if status != expected.status { return "status" }
        if requestID != expected.requestID { return "request_id" }
        return nil
    }
}

/// An entry as stored: a record placed at a sequence number of its tenant's chain.
public struct AuditEntry: Sendable, Hashable {
    /// Tenant whose chain holds the entry.
    public var tenantID: String
    /// Position in the chain, from 1.
    public var sequence: Int64
    /// The canonical JSON the hash covers (tenant, sequence and the record).
    public var canonical: [UInt8]
    /// Hash of the previous entry (32 zero bytes before the first).
    public var previousHash: [UInt8]
    /// `SHA-256(previousHash ‖ canonical)`.
    public var entryHash: [UInt8]
    /// The index columns as stored, when read from storage (`nil` for an entry just built).
    public var columns: AuditColumns?

    /// Creates an entry.
    public init(
        tenantID: String, sequence: Int64, canonical: [UInt8], previousHash: [UInt8], entryHash: [UInt8], columns: AuditColumns? = nil
    ) {
        self.tenantID = tenantID
        self.sequence = sequence
        self.canonical = canonical
        self.previousHash = previousHash
        self.entryHash = entryHash
        self.columns = columns
    }

    /// The record the canonical bytes hold, if they parse.
    public var record: AuditRecord? { AuditChain.decode(canonical)?.record }
}

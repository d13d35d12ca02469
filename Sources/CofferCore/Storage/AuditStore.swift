/// Filters for reading audit entries.
public struct AuditQuery: Sendable, Hashable {
    /// Entries at or after this time (ms).
    public var since: Int64?
    /// Entries before this time (ms).
    public var until: Int64?
    /// Actor id (accessor or key id).
    public var actorID: String?
    /// Operation name.
    public var operation: String?
    /// `true` successes only, `false` failures only.
    public var succeeded: Bool?
    /// Request id.
    public var requestID: String?
    /// Entries after this sequence (paging cursor).
    public var afterSequence: Int64
    /// Page size.
    public var limit: Int

    /// Whether a record (its hashed content) satisfies the filters; the paging cursor is not a filter.
    public func matches(_ record: AuditRecord) -> Bool {
        if let since, record.time < since { return false }
        if let until, record.time >= until { return false }
        if let actorID, record.actor.id != actorID { return false }
        if let operation, record.operation != operation { return false }
        if let requestID, record.requestID != requestID { return false }
        if let succeeded, record.succeeded != succeeded { return false }
        return true
    }

    /// Creates a query.
    public init(
        since: Int64? = nil, until: Int64? = nil, actorID: String? = nil, operation: String? = nil, succeeded: Bool? = nil, requestID: String? = nil,
        afterSequence: Int64 = 0, limit: Int = 100
    ) {
        self.since = since
        self.until = until
        self.actorID = actorID
        self.operation = operation
        self.succeeded = succeeded
        self.requestID = requestID
        self.afterSequence = afterSequence
        self.limit = limit
    }
}

/// What a retention cut removed.
public struct AuditRetentionResult: Sendable, Hashable {
    /// Entries deleted.
    public var deleted: Int
    /// Last deleted sequence (the chain continues from here).
    public var cutSequence: Int64
    /// Hash of the last deleted entry: the new anchor.
    public var hashAtCut: [UInt8]

    /// Creates a result.
    public init(deleted: Int, cutSequence: Int64, hashAtCut: [UInt8]) {
        self.deleted = deleted
        self.cutSequence = cutSequence
        self.hashAtCut = hashAtCut
    }
}

/// Persistence of the per-tenant audit chains.
public protocol AuditStore: Sendable {
    /// Appends records to tenants' chains in one transaction, in order. Returns the stored entries.
    func append(_ records: [(tenantID: String, record: AuditRecord)]) async throws -> [AuditEntry]
    /// The head `(sequence, hash)` of a tenant's chain.
    func head(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8])
    /// The retention anchor (last deleted sequence and its hash), if entries were ever deleted.
    func anchor(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8])?
    /// Up to `limit` entries after `sequence`, in order (for verification and export).
    func entries(tenantID: String, after sequence: Int64, limit: Int) async throws -> [AuditEntry]
    /// Entries matching a query, in order.
    func query(tenantID: String, _ query: AuditQuery) async throws -> [AuditEntry]
    /// The hash of the entry at `sequence`.
    func entryHash(tenantID: String, sequence: Int64) async throws -> [UInt8]?
    /// Deletes entries older than `before` (a prefix of the chain), records the anchor, and appends `describe(result)`.
    func deleteBefore(
        tenantID: String, before: Int64, describe: @escaping @Sendable (AuditRetentionResult) -> AuditRecord
    ) async throws -> AuditRetentionResult
    /// Stores a signed checkpoint.
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws
    /// A tenant's checkpoints, oldest first.
    func checkpoints(tenantID: String) async throws -> [AuditCheckpoint]
}

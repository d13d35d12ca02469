import Synchronization

/// The audit state of one request, carried as a task-local so the storage layer can append the
/// request's entry inside the same transaction as the change it records (fail-closed).
///
/// The HTTP layer creates a scope per request and fills in who, what and the redacted body; the
/// first write transaction in the request claims the entry and appends it before commit; if that
/// transaction rolls back, the claim is released and the request's failure is recorded instead.
public final class AuditScope: Sendable {
    /// The scope of the running request, if any.
    @TaskLocal public static var current: AuditScope?

    struct State {
        var tenantID: String?
        var record: AuditRecord
        var claimed = false
        var committed: AuditEntry?
        var redact: (@Sendable (JSONValue) -> JSONValue)?
        var summarised = false
        var body: JSONValue?
    }

    private let state: Mutex<State>

    /// Starts a scope for a request.
    public init(record: AuditRecord) {
        state = Mutex(State(record: record))
    }

    /// Sets the tenant whose chain records this request, the caller, and how to redact bodies.
    public func identify(tenantID: String, actor: AuditActor, redact: @escaping @Sendable (JSONValue) -> JSONValue) {
        state.withLock {
            $0.tenantID = tenantID
            $0.record.actor = actor
            $0.redact = redact
        }
    }

    /// Describes the operation.
    public func describe(operation: String, resourceType: String, resourceID: String, details: [String: String] = [:]) {
        state.withLock {
            $0.record.operation = operation
            $0.record.resourceType = resourceType
            $0.record.resourceID = resourceID
            $0.record.details.merge(details) { $1 }
        }
    }

    /// Records the request body; it is redacted with the tenant's audit key only if an entry is written
    /// (ignored before ``identify``).
    public func recordBody(_ body: JSONValue) {
        state.withLock { state in
            guard state.redact != nil else { return }
            state.body = body
        }
    }

    /// The record with its body redacted.
    static func redacted(_ state: State) -> AuditRecord {
        var record = state.record
        if let body = state.body, let redact = state.redact { record.request = redact(body) }
        return record
    }

    /// Marks a high-volume data-plane request (API-key verification) whose successful outcomes are
    /// counted into periodic summary entries instead of one entry each; failures are still recorded.
    public func summariseOnSuccess() { state.withLock { $0.summarised = true } }

    /// Adds facts to the entry.
    public func addDetails(_ details: [String: String]) {
        state.withLock { $0.record.details.merge(details) { $1 } }
    }

    /// Called by a write transaction: the entry to append before commit, once per request.
    public func claimForTransaction(time: Int64) -> (tenantID: String, record: AuditRecord)? {
        state.withLock { state in
            guard !state.claimed, state.committed == nil, let tenant = state.tenantID, !state.record.operation.isEmpty else {
                return nil
            }
            state.claimed = true
            var record = Self.redacted(state)
            record.time = time
            record.status = 200
            return (tenant, record)
        }
    }

    /// The transaction that claimed the entry committed it.
    public func transactionCommitted(_ entry: AuditEntry) {
        state.withLock {
            $0.claimed = false
            $0.committed = entry
        }
    }

    /// The transaction that claimed the entry rolled back.
    public func transactionRolledBack() { state.withLock { $0.claimed = false } }

    /// The entry committed with the request's change, if any.
    public var committedEntry: AuditEntry? { state.withLock { $0.committed } }

    /// The entry to append after the request when no transaction did: tenant and final record.
    /// Failures are recorded even after a committed change (`force`), so a partial effect shows both.
    public func finalRecord(status: Int, errorCode: String, time: Int64, force: Bool = false) -> (tenantID: String, record: AuditRecord)? {
        state.withLock { state in
            guard force || (state.committed == nil && !state.summarised), let tenant = state.tenantID else { return nil }
            var record = Self.redacted(state)
            record.time = time
            record.status = status
            record.errorCode = errorCode
            if record.operation.isEmpty { record.operation = "request" }
            return (tenant, record)
        }
    }
}

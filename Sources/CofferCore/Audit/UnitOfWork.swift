import Synchronization

/// One request's work, passed explicitly from the HTTP layer to the service that carries it out and on
/// to the store that writes it. It holds the audit record being built (who, from where, what), and
/// its state decides where that record goes:
///
/// - A store's write transaction asks ``claimForTransaction(time:)`` before commit and appends the entry
///   in the same transaction: the change and its record land together or not at all.
/// - A request that wrote nothing (a read, a refusal) has its entry appended after the answer is known,
///   through ``finalRecord(status:errorCode:time:force:)``; the response waits until it is durable.
///
/// Nothing here is task-local: a service that writes takes a `UnitOfWork` parameter, and work outside a
/// request (start-up, background jobs, tools) passes ``unaudited()``, which never yields an entry.
public final class UnitOfWork: Sendable {
    struct State {
        var enabled: Bool
        var tenantID: String?
        var record: AuditRecord
        var claimed = false
        var committed: AuditEntry?
        var redact: (@Sendable (JSONValue) -> JSONValue)?
        var summarised = false
        var body: JSONValue?
    }

    private let state: Mutex<State>

    /// Starts the work of a request whose audit entry begins as `record`.
    public init(record: AuditRecord, audited: Bool = true) {
        state = Mutex(State(enabled: audited, record: record))
    }

    /// Work Coffer does on its own (background jobs, alerts): actor `system:coffer` named `name`, recorded in
    /// `tenantID`'s chain as `operation` on `resourceType`/`resourceID` (when `audited`), with no request body.
    public static func system(
        _ name: String, tenantID: String, operation: String, resourceType: String, resourceID: String = "", details: [String: String] = [:],
        time: Int64, audited: Bool
    ) -> UnitOfWork {
        let actor = AuditActor(kind: "system", id: "coffer", role: "", displayName: name)
        let work = UnitOfWork(
            record: AuditRecord(
                time: time, actor: actor, operation: operation, resourceType: resourceType, resourceID: resourceID, clientIP: "", userAgent: "",
                requestID: "", status: 200, errorCode: "", request: .null, details: details),
            audited: audited)
        work.identify(tenantID: tenantID, actor: actor) { _ in .null }
        return work
    }

    /// Work that is not recorded in any audit chain: start-up, background maintenance, tools and tests.
    public static func unaudited() -> UnitOfWork {
        UnitOfWork(
            record: AuditRecord(
                time: 0, actor: .anonymous, operation: "", resourceType: "", resourceID: "", clientIP: "", userAgent: "", requestID: "",
                status: 0, errorCode: "", request: .null),
            audited: false)
    }

    /// Starts recording: the request's method, path, client and time (the HTTP layer calls this first).
    public func begin(time: Int64, method: String, path: String, userAgent: String) {
        state.withLock {
            $0.record.time = time
            $0.record.resourceType = "http"
            $0.record.resourceID = path
            $0.record.userAgent = userAgent
            $0.record.details["method"] = method
        }
    }

    /// Stops this work from writing audit entries (auditing is switched off in the configuration).
    public func disable() { state.withLock { $0.enabled = false } }

    /// The tenant the work was identified with (the authenticated caller's), if any.
    public var tenantID: String? { state.withLock { $0.tenantID } }

    /// The caller recorded so far.
    public var actor: AuditActor { state.withLock { $0.record.actor } }

    /// Whether this work writes audit entries.
    public var isAudited: Bool { state.withLock { $0.enabled } }

    /// Sets the tenant whose chain records this work, the caller, and how to redact bodies.
    public func identify(tenantID: String, actor: AuditActor, redact: @escaping @Sendable (JSONValue) -> JSONValue) {
        state.withLock {
            $0.tenantID = tenantID
            $0.record.actor = actor
            $0.redact = redact
        }
    }

    /// Names the operation, its resource and details.
    public func describe(_ operation: String, _ resourceType: String, _ resourceID: String, _ details: [String: String] = [:]) {
        state.withLock {
            $0.record.operation = operation
            $0.record.resourceType = resourceType
            $0.record.resourceID = resourceID
            $0.record.details.merge(details) { $1 }
        }
    }

    /// Renames the operation, keeping its resource and details (a login that failed: `auth.login.failed`).
    public func rename(_ operation: String) {
        state.withLock { $0.record.operation = operation }
    }

    /// Records the request body; it is redacted with the tenant's audit key only if an entry is written
    /// (ignored before ``identify(tenantID:actor:redact:)``).
    public func recordBody(_ body: JSONValue) {
        state.withLock { state in
            guard state.redact != nil else { return }
            state.body = body
        }
    }

    /// Adds facts to the entry (name them before the write, so the in-transaction entry carries them).
    public func addDetails(_ details: [String: String]) {
        state.withLock { $0.record.details.merge(details) { $1 } }
    }

    /// Marks a high-volume data-plane request (API-key verification) whose successful outcomes are
    /// counted into periodic summary entries instead of one entry each; failures are still recorded.
    public func summariseOnSuccess() { state.withLock { $0.summarised = true } }

    static func redacted(_ state: State) -> AuditRecord {
        var record = state.record
        if let body = state.body, let redact = state.redact { record.request = redact(body) }
        return record
    }

    /// Called by a write transaction before commit: the entry to append in it, once per unit of work.
    public func claimForTransaction(time: Int64) -> (tenantID: String, record: AuditRecord)? {
        state.withLock { state in
            guard state.enabled, !state.claimed, state.committed == nil, let tenant = state.tenantID, !state.record.operation.isEmpty else {
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

    /// The transaction that claimed the entry rolled back: the entry is free again (and the failure is
    /// what gets recorded).
    public func transactionRolledBack() { state.withLock { $0.claimed = false } }

    /// The entry committed with the work's change, if any.
    public var committedEntry: AuditEntry? { state.withLock { $0.committed } }

    /// The entry to append after the request when no transaction did: tenant and final record.
    /// Failures are recorded even after a committed change (`force`), so a partial effect shows both.
    public func finalRecord(status: Int, errorCode: String, time: Int64, force: Bool = false) -> (tenantID: String, record: AuditRecord)? {
        state.withLock { state in
            guard state.enabled, force || (state.committed == nil && !state.summarised), let tenant = state.tenantID else { return nil }
            var record = Self.redacted(state)
            record.time = time
            record.status = status
            record.errorCode = errorCode
            if record.operation.isEmpty { record.operation = "request" }
            return (tenant, record)
        }
    }
}

/// An alert's state: firing until someone acknowledges it or it goes quiet; resolved when no new
/// occurrence came for its rule's cool-down.
public enum AlertState: String, Sendable, CaseIterable, Codable {
    /// Raised and not yet handled.
    case firing
    /// A person has seen it; occurrences are still counted, not sent again.
    case acknowledged
    /// Over.
    case resolved
}

/// A stored alert.
public struct AlertRecord: Sendable, Equatable {
    /// `alr_` and 128 random bits.
    public var id: String
    /// Its tenant.
    public var tenantID: String
    /// The rule that raised it.
    public var rule: AlertRuleName
    /// Severity when raised.
    public var severity: AlertSeverity
    /// State.
    public var state: AlertState
    /// Occurrences with this key (under the same rule, while open) are this alert.
    public var dedupKey: String
    /// What happened, for people.
    public var summary: String
    /// Facts (never a secret).
    public var details: [String: String]
    /// Occurrences counted.
    public var count: Int
    /// First and latest occurrence, ms.
    public var firstAt: Int64
    /// Latest occurrence, ms.
    public var lastAt: Int64
    /// When channels were last told, ms.
    public var notifiedAt: Int64?
    /// Who acknowledged it (`kind:id`) and when.
    public var acknowledgedBy: String?
    /// When it was acknowledged, ms.
    public var acknowledgedAt: Int64?
    /// When it was resolved, ms.
    public var resolvedAt: Int64?

    /// Creates a record.
    public init(
        id: String, tenantID: String, rule: AlertRuleName, severity: AlertSeverity, state: AlertState, dedupKey: String, summary: String,
        details: [String: String], count: Int, firstAt: Int64, lastAt: Int64, notifiedAt: Int64? = nil, acknowledgedBy: String? = nil,
        acknowledgedAt: Int64? = nil, resolvedAt: Int64? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.rule = rule
        self.severity = severity
        self.state = state
        self.dedupKey = dedupKey
        self.summary = summary
        self.details = details
        self.count = count
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.notifiedAt = notifiedAt
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
    }
}

/// What raising a trigger did.
public struct AlertRaise: Sendable {
    /// The alert as stored now.
    public var alert: AlertRecord
    /// Whether this occurrence opened a new alert.
    public var opened: Bool
    /// Whether channels should be told now (new, or firing again after its cool-down).
    public var notify: Bool

    /// Creates a result.
    public init(alert: AlertRecord, opened: Bool, notify: Bool) {
        self.alert = alert
        self.opened = opened
        self.notify = notify
    }
}

/// Where alerts and each tenant's alert settings are kept.
public protocol AlertStore: Sendable {
    /// Counts an occurrence of `trigger` at `now` into the open alert with its rule and key, or opens one
    /// (id `newID`), in one transaction; `notify` when the alert is firing and was not told within
    /// `cooldownMillis` (the notification time is stored with it, so two instances never both send). The
    /// work's entry (`alert.firing`) is written for a new alert and for a repeat notification only.
    func raise(
        tenantID: String, trigger: AlertTrigger, newID: String, now: Int64, cooldownMillis: Int64, in work: UnitOfWork
    ) async throws -> AlertRaise
    /// One alert.
    func alert(id: String, tenantID: String) async throws -> AlertRecord?
    /// A tenant's alerts, newest first, optionally in one state, at most `limit`.
    func list(tenantID: String, state: AlertState?, limit: Int) async throws -> [AlertRecord]
    /// Acknowledges a firing alert; `nil` if there is no such alert, the alert unchanged if it was not firing.
    func acknowledge(id: String, tenantID: String, by actor: String, at time: Int64, in work: UnitOfWork) async throws -> AlertRecord?
    /// Resolves one open alert if its latest occurrence is still `lastAt` (no new one came meanwhile).
    func resolve(id: String, tenantID: String, lastAt: Int64, at time: Int64, in work: UnitOfWork) async throws -> Bool
    /// Open alerts of every tenant whose latest occurrence is before `before`, at most `limit`.
    func quiet(before: Int64, limit: Int) async throws -> [AlertRecord]
    /// A tenant's alert settings document (rules and channels), if it has one.
    func settings(tenantID: String) async throws -> JSONValue?
    /// Replaces a tenant's alert settings document.
    func saveSettings(tenantID: String, _ document: JSONValue, in work: UnitOfWork) async throws
}

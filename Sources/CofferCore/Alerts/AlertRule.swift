/// How urgently an alert needs a person, as FailSafe-Qore groups its thresholds: `page` now, `daily`
/// and `weekly` in a digest.
public enum AlertSeverity: String, Sendable, CaseIterable, Codable {
    /// Someone should look now.
    case page
    /// Worth a look today.
    case daily
    /// Worth a look this week.
    case weekly
}

/// The rules Coffer evaluates for every tenant. Each has defaults from the seeds and every threshold is
/// configurable per tenant (``AlertRule``).
public enum AlertRuleName: String, Sendable, CaseIterable, Codable {
    /// Failed authentications in a tenant (4Quays: more than 10 a minute).
    case failedAuth = "failed_auth"
    /// Failed authentications from one client address.
    case failedAuthAddress = "failed_auth_address"
    /// Any signature-verification failure: unprotect, transit verify, gateway signatures.
    case signatureFailure = "signature_failure"
    /// A revoked or expired API key presented (FailSafe-Qore "key used after revocation").
    case revokedKeyUse = "revoked_key_use"
    /// A key reported leaked (`POST /v1/keys/leaked`, `coffer scan --revoke`).
    case leakedKey = "leaked_key"
    /// Server errors (5xx) above a share of a tenant's requests.
    case serverErrors = "error_rate_5xx"
    /// Client errors (4xx) above a share of a tenant's requests.
    case clientErrors = "error_rate_4xx"
    /// A key created or rotated (a digest of new keys).
    case newKey = "new_key"
    /// A tenant's requests in the last minute far above its own trailing hourly baseline.
    case unusualVolume = "unusual_volume"
    /// An API key expiring within the window (7 days).
    case keyExpiring = "key_expiring"
    /// An API key older than its rotation period (4Quays: quarterly) that was never rotated.
    case keyNotRotated = "key_not_rotated"
    /// An API key not used for its rotation period.
    case keyUnused = "key_unused"
    /// A long-lived token (lifetime at least `threshold` days) that ends within the window (7 days) and
    /// cannot be renewed past it.
    case tokenExpiring = "token_expiring"
    /// A transit (encryption or signing) key whose newest version is older than the window (4Quays:
    /// annually).
    case transitKeyNotRotated = "transit_key_not_rotated"
}

/// One rule's settings for a tenant.
public struct AlertRule: Sendable, Equatable {
    /// Which rule.
    public var name: AlertRuleName
    /// Whether it is evaluated.
    public var enabled: Bool
    /// Its severity.
    public var severity: AlertSeverity
    /// Count rules: the alert fires when more than this many events fall in the window. Rate rules: the
    /// percentage of requests that may fail.
    public var threshold: Int
    /// The sliding window, seconds.
    public var windowSeconds: Int
    /// After a notification, further occurrences of the same alert are counted but not sent again for
    /// this long; an alert with no occurrence for this long is resolved.
    public var cooldownSeconds: Int
    /// Rate rules: the fewest requests in the window before a rate is judged.
    public var minRequests: Int

    /// Creates a rule.
    public init(
        name: AlertRuleName, enabled: Bool = true, severity: AlertSeverity, threshold: Int, windowSeconds: Int, cooldownSeconds: Int = 900,
        minRequests: Int = 0
    ) {
        self.name = name
        self.enabled = enabled
        self.severity = severity
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.cooldownSeconds = cooldownSeconds
        self.minRequests = minRequests
    }

    /// The defaults, from 4Quays' "Essential Alerts" and FailSafe-Qore's thresholds.
    public static func defaultRule(_ name: AlertRuleName) -> AlertRule {
        switch name {
        case .failedAuth: AlertRule(name: name, severity: .page, threshold: 10, windowSeconds: 60)
        case .failedAuthAddress: AlertRule(name: name, severity: .page, threshold: 10, windowSeconds: 60)
        case .signatureFailure: AlertRule(name: name, severity: .page, threshold: 0, windowSeconds: 60)
        case .revokedKeyUse: AlertRule(name: name, severity: .page, threshold: 0, windowSeconds: 60)
        case .leakedKey: AlertRule(name: name, severity: .page, threshold: 0, windowSeconds: 60)
        case .serverErrors: AlertRule(name: name, severity: .page, threshold: 1, windowSeconds: 300, minRequests: 100)
        case .clientErrors: AlertRule(name: name, severity: .daily, threshold: 1, windowSeconds: 300, minRequests: 100)
        case .newKey: AlertRule(name: name, severity: .daily, threshold: 0, windowSeconds: 86_400, cooldownSeconds: 86_400)
        // 10 times the trailing per-minute mean of the last hour, once the minute has at least 600 requests.
        case .unusualVolume: AlertRule(name: name, severity: .page, threshold: 10, windowSeconds: 3600, minRequests: 600)
        // Windows in seconds: 7 days ahead; 90 days old; 90 days unused. Checked hourly.
        case .keyExpiring: AlertRule(name: name, severity: .daily, threshold: 0, windowSeconds: 604_800, cooldownSeconds: 86_400)
        case .keyNotRotated: AlertRule(name: name, severity: .weekly, threshold: 0, windowSeconds: 7_776_000, cooldownSeconds: 604_800)
        case .keyUnused: AlertRule(name: name, severity: .weekly, threshold: 0, windowSeconds: 7_776_000, cooldownSeconds: 604_800)
        // Tokens living at least 30 days that end within 7; transit keys whose newest version is a year old.
        case .tokenExpiring: AlertRule(name: name, severity: .daily, threshold: 30, windowSeconds: 604_800, cooldownSeconds: 86_400)
        case .transitKeyNotRotated:
            AlertRule(name: name, severity: .weekly, threshold: 0, windowSeconds: 31_536_000, cooldownSeconds: 604_800)
        }
    }

    /// Whether the rule judges a rate (a percentage of requests) rather than a count.
    public var isRate: Bool { name == .serverErrors || name == .clientErrors }

    /// A rule as stored: `{enabled, severity, threshold, window_seconds, cooldown_seconds, min_requests}`.
    public var json: JSONValue {
        [
            "enabled": .bool(enabled), "severity": .string(severity.rawValue), "threshold": .int(threshold),
            "window_seconds": .int(windowSeconds), "cooldown_seconds": .int(cooldownSeconds), "min_requests": .int(minRequests),
        ]
    }

    /// Applies the fields of `object` (a request or a stored document) over this rule; `INVALID_REQUEST`
    /// naming the field for an unknown field or a value out of range.
    public func updated(with object: [String: JSONValue]) throws(CofferError) -> AlertRule {
        var rule = self
        for key in object.keys {
            guard ["enabled", "severity", "threshold", "window_seconds", "cooldown_seconds", "min_requests"].contains(key) else {
                throw CofferError(.invalidRequest, "unknown rule field '\(key.prefix(64))'")
            }
        }
        if let value = object["enabled"] {
            guard case .bool(let flag) = value else { throw CofferError(.invalidRequest, "enabled must be true or false") }
            rule.enabled = flag
        }
        if let value = object["severity"] {
            guard let text = value.stringValue, let severity = AlertSeverity(rawValue: text) else {
                throw CofferError(.invalidRequest, "severity must be page, daily or weekly")
            }
            rule.severity = severity
        }
        func number(_ key: String, _ range: ClosedRange<Int>) throws(CofferError) -> Int? {
            guard let value = object[key] else { return nil }
            guard case .number = value, let number = value.intValue, range.contains(number) else {
                throw CofferError(.invalidRequest, "\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        if let value = try number("threshold", rule.isRate ? 0...100 : 0...1_000_000) { rule.threshold = value }
        if let value = try number("window_seconds", 10...31_622_400) { rule.windowSeconds = value }
        if let value = try number("cooldown_seconds", 0...604_800) { rule.cooldownSeconds = value }
        if let value = try number("min_requests", 0...1_000_000_000) { rule.minRequests = value }
        return rule
    }
}

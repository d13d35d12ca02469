/// The rules of alerting: each tenant's settings (rule overrides and channels), raising alerts with
/// deduplication and cool-down, acknowledging, and resolving alerts that went quiet. Every state change
/// is a write with its audit entry in the tenant's chain (`alert.firing`, `alert.acknowledged`,
/// `alert.resolved`, `alert.settings`).
public struct AlertService: Sendable {
    /// The store.
    public let store: any AlertStore
    let clock: any CofferClock

    /// Creates the service.
    public init(store: any AlertStore, clock: any CofferClock) {
        self.store = store
        self.clock = clock
    }

    /// A tenant's settings (defaults when it has none).
    public func settings(tenantID: String) async throws -> AlertSettings {
        guard let stored = try await store.settings(tenantID: tenantID) else { return AlertSettings() }
        return try AlertSettings(stored: stored)
    }

    /// Changes one rule with the fields given (`enabled`, `severity`, `threshold`, `window_seconds`,
    /// `cooldown_seconds`, `min_requests`); answers the rule in effect.
    public func updateRule(tenantID: String, _ name: AlertRuleName, _ fields: [String: JSONValue], in work: UnitOfWork) async throws -> AlertRule {
        var settings = try await settings(tenantID: tenantID)
        let rule = try settings.rule(name).updated(with: fields)
        settings.rules[name] = rule
        try await store.saveSettings(tenantID: tenantID, settings.json, in: work)
        return rule
    }

    /// Adds or replaces a channel (at most 10 per tenant).
    public func putChannel(tenantID: String, name: String, _ fields: [String: JSONValue], in work: UnitOfWork) async throws -> AlertChannel {
        var settings = try await settings(tenantID: tenantID)
        let channel = try AlertChannel.parse(name: name, fields)
        guard settings.channels[name] != nil || settings.channels.count < 10 else {
            throw CofferError(.invalidRequest, "a tenant has at most 10 alert channels")
        }
        settings.channels[name] = channel
        try await store.saveSettings(tenantID: tenantID, settings.json, in: work)
        return channel
    }

    /// Removes a channel; `NOT_FOUND` if there is none of that name.
    public func deleteChannel(tenantID: String, name: String, in work: UnitOfWork) async throws {
        var settings = try await settings(tenantID: tenantID)
        guard settings.channels.removeValue(forKey: name) != nil else { throw CofferError(.notFound, "no alert channel of this name") }
        try await store.saveSettings(tenantID: tenantID, settings.json, in: work)
    }

    /// Counts `trigger` into its open alert or opens one; `notify` says whether channels should be told.
    public func raise(tenantID: String, _ trigger: AlertTrigger, rule: AlertRule, at now: Int64, in work: UnitOfWork) async throws -> AlertRaise {
        try await store.raise(
            tenantID: tenantID, trigger: trigger, newID: Self.newID(), now: now, cooldownMillis: Int64(rule.cooldownSeconds) * 1000, in: work)
    }

    /// One alert; `NOT_FOUND` when the tenant has none with this id.
    public func alert(id: String, tenantID: String) async throws -> AlertRecord {
        guard Self.isID(id), let alert = try await store.alert(id: id, tenantID: tenantID) else { throw CofferError(.notFound, "no such alert") }
        return alert
    }

    /// A tenant's alerts, newest first.
    public func list(tenantID: String, state: AlertState?, limit: Int) async throws -> [AlertRecord] {
        guard (1...1000).contains(limit) else { throw CofferError(.invalidRequest, "limit must be 1-1000") }
        return try await store.list(tenantID: tenantID, state: state, limit: limit)
    }

    /// Acknowledges a firing alert; `INVALID_REQUEST` when it is not firing.
    public func acknowledge(id: String, tenantID: String, by actor: String, in work: UnitOfWork) async throws -> AlertRecord {
        let current = try await alert(id: id, tenantID: tenantID)
        guard current.state == .firing else { throw CofferError(.invalidRequest, "the alert is \(current.state.rawValue), not firing") }
        guard let updated = try await store.acknowledge(id: id, tenantID: tenantID, by: actor, at: clock.nowMillis, in: work) else {
            throw CofferError(.notFound, "no such alert")
        }
        return updated
    }

    /// Resolves every open alert with no occurrence for its rule's cool-down (at least a minute), each in
    /// the unit of work `work(alert)` makes. Returns the alerts resolved.
    public func resolveQuiet(
        settings: (String) async throws -> AlertSettings, work: (AlertRecord) throws -> UnitOfWork
    ) async throws
        -> [AlertRecord]
    {
        let now = clock.nowMillis
        var resolved: [AlertRecord] = []
        for alert in try await store.quiet(before: now - 60_000, limit: 500) {
            let rule = try await settings(alert.tenantID).rule(alert.rule)
            guard now - alert.lastAt >= max(60, Int64(rule.cooldownSeconds)) * 1000 else { continue }
            if try await store.resolve(id: alert.id, tenantID: alert.tenantID, lastAt: alert.lastAt, at: now, in: try work(alert)) {
                var done = alert
                done.state = .resolved
                done.resolvedAt = now
                resolved.append(done)
            }
        }
        return resolved
    }

    /// A fresh alert id.
    public static func newID() -> String { "alr_" + Base62.encode(SecureRandom.bytes(16), minLength: 22) }

    /// Whether `id` has the shape of an alert id.
    static func isID(_ id: String) -> Bool {
        id.hasPrefix("alr_") && id.utf8.count <= 40 && Base62.isValid(id.dropFirst(4))
    }
}

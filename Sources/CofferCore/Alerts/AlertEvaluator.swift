/// What a rule decided: an alert to raise (or count again), identified by its rule and dedup key.
public struct AlertTrigger: Sendable, Equatable {
    /// The rule.
    public var rule: AlertRuleName
    /// Its severity.
    public var severity: AlertSeverity
    /// Occurrences with the same key are one alert (a client address, an operation, a day).
    public var dedupKey: String
    /// One line for people: what happened, without any secret.
    public var summary: String
    /// Facts for the notification and the audit entry.
    public var details: [String: String]

    /// Creates a trigger.
    public init(rule: AlertRuleName, severity: AlertSeverity, dedupKey: String, summary: String, details: [String: String]) {
        self.rule = rule
        self.severity = severity
        self.dedupKey = dedupKey
        self.summary = summary
        self.details = details
    }
}

/// The alert rules' pure state machine: sliding windows of events per tenant (and per client address),
/// and request outcomes per tenant for error rates. Time is passed in (milliseconds), never read, so
/// every rule is tested under an injected clock. Memory is bounded: at most `maxKeys` windows, the
/// least recently touched forgotten first.
public struct AlertEvaluator: Sendable {
    struct Window {
        var times: [Int64] = []
        var touched: Int64 = 0
    }

    struct Outcomes {
        /// Per 10-second bucket start: (requests, 4xx, 5xx).
        var buckets: [(start: Int64, total: Int, client: Int, server: Int)] = []
        var touched: Int64 = 0
    }

    struct Volume {
        /// Requests per minute (minute number → count), the last hour and the current minute.
        var minutes: [Int64: Int] = [:]
        var touched: Int64 = 0
    }

    var windows: [String: Window] = [:]
    var outcomes: [String: Outcomes] = [:]
    var volumes: [String: Volume] = [:]
    /// The most windows (and outcome series) kept.
    public let maxKeys: Int

    /// How many windows and outcome series are held (bounded by `maxKeys` each).
    public var trackedKeys: Int { max(windows.count, outcomes.count, volumes.count) }

    /// An evaluator that remembers nothing yet.
    public init(maxKeys: Int = 10_000) {
        self.maxKeys = maxKeys
    }

    /// The triggers `signal` causes in `tenantID` at `now` under `rules` (missing rules use their defaults).
    public mutating func observe(
        _ signal: AlertSignal, tenantID: String, at now: Int64, rules: [AlertRuleName: AlertRule] = [:]
    ) -> [AlertTrigger] {
        func rule(_ name: AlertRuleName) -> AlertRule? {
            let rule = rules[name] ?? AlertRule.defaultRule(name)
            return rule.enabled ? rule : nil
        }
        switch signal {
        case .failedAuth(let address):
            var triggers: [AlertTrigger] = []
            if let tenantRule = rule(.failedAuth) {
                let count = count("auth|\(tenantID)", at: now, window: tenantRule.windowSeconds)
                if count > tenantRule.threshold {
                    triggers.append(
                        trigger(
                            tenantRule, key: "tenant", "\(count) failed authentications in \(tenantRule.windowSeconds) s",
                            ["count": String(count), "window_seconds": String(tenantRule.windowSeconds)]))
                }
            }
            if let addressRule = rule(.failedAuthAddress), !address.isEmpty {
                let count = count("addr|\(tenantID)|\(address)", at: now, window: addressRule.windowSeconds)
                if count > addressRule.threshold {
                    triggers.append(
                        trigger(
                            addressRule, key: address, "\(count) failed authentications from \(address) in \(addressRule.windowSeconds) s",
                            ["count": String(count), "client_ip": address, "window_seconds": String(addressRule.windowSeconds)]))
                }
            }
            return triggers
        case .signatureFailure(let operation):
            guard let rule = rule(.signatureFailure) else { return [] }
            let count = count("sig|\(tenantID)|\(operation)", at: now, window: rule.windowSeconds)
            guard count > rule.threshold else { return [] }
            return [trigger(rule, key: operation, "a signature failed to verify (\(operation))", ["operation": operation, "count": String(count)])]
        case .revokedKeyUse(let uses):
            guard let rule = rule(.revokedKeyUse) else { return [] }
            var count = 0
            for _ in 0..<min(uses, 10_000) { count = self.count("dead|\(tenantID)", at: now, window: rule.windowSeconds) }
            guard count > rule.threshold else { return [] }
            return [trigger(rule, key: "tenant", "a revoked or expired API key was presented", ["count": String(count)])]
        case .leakedKey(let keyID):
            guard let rule = rule(.leakedKey) else { return [] }
            return [trigger(rule, key: keyID, "API key \(keyID) was reported leaked and revoked", ["key_id": keyID])]
        case .request(let status):
            return requestOutcome(status, tenantID: tenantID, at: now, rule: rule) + volume(tenantID: tenantID, at: now, rule: rule(.unusualVolume))
        case .newKey(let operation, let resourceID):
            guard let rule = rule(.newKey) else { return [] }
            let day = String(now / 86_400_000)
            return [trigger(rule, key: "day-\(day)", "keys were created or rotated today", ["operation": operation, "resource_id": resourceID])]
        }
    }

    func trigger(_ rule: AlertRule, key: String, _ summary: String, _ details: [String: String]) -> AlertTrigger {
        AlertTrigger(rule: rule.name, severity: rule.severity, dedupKey: key, summary: summary, details: details)
    }

    /// Adds one event at `now` to the window `key` and returns how many fall within the `window` seconds
    /// ending at the latest event seen. Events arrive out of order (concurrent requests); one older
    /// than that window (a late or back-dated entry) is not counted and returns 0.
    mutating func count(_ key: String, at now: Int64, window: Int) -> Int {
        var entry = windows[key] ?? Window()
        let latest = max(now, entry.times.max() ?? now)
        let start = latest - Int64(window) * 1000
        guard now > start else { return 0 }
        entry.times.removeAll { $0 <= start }
        entry.times.append(now)
        // A window never holds more than it needs to tell "over the threshold" from "not".
        if entry.times.count > 100_000 { entry.times.removeFirst(entry.times.count - 100_000) }
        entry.touched = max(entry.touched, now)
        windows[key] = entry
        if windows.count > maxKeys { evict(&windows) }
        return entry.times.count
    }

    mutating func requestOutcome(_ status: Int, tenantID: String, at now: Int64, rule: (AlertRuleName) -> AlertRule?) -> [AlertTrigger] {
        let server = rule(.serverErrors)
        let client = rule(.clientErrors)
        guard server != nil || client != nil else { return [] }
        let span = Int64(max(server?.windowSeconds ?? 0, client?.windowSeconds ?? 0)) * 1000
        var series = outcomes[tenantID] ?? Outcomes()
        let latest = max(now, series.buckets.map(\.start).max() ?? now)
        guard now > latest - span else { return [] }
        let bucket = now - now % 10_000
        series.buckets.removeAll { $0.start <= latest - span }
        let index: Int
        if let found = series.buckets.firstIndex(where: { $0.start == bucket }) {
            index = found
        } else {
            series.buckets.append((bucket, 0, 0, 0))
            index = series.buckets.count - 1
        }
        series.buckets[index].total += 1
        if (400..<500).contains(status) { series.buckets[index].client += 1 }
        if (500..<600).contains(status) { series.buckets[index].server += 1 }
        series.touched = max(series.touched, now)
        outcomes[tenantID] = series
        if outcomes.count > maxKeys { evict(&outcomes) }
        var triggers: [AlertTrigger] = []
        for (rule, isServer) in [(server, true), (client, false)] {
            guard let rule, isServer ? status >= 500 : (400..<500).contains(status) else { continue }
            let within = series.buckets.filter { $0.start > latest - Int64(rule.windowSeconds) * 1000 }
            let total = within.reduce(0) { $0 + $1.total }
            let errors = within.reduce(0) { $0 + (isServer ? $1.server : $1.client) }
            guard total >= rule.minRequests, total > 0, errors * 100 > rule.threshold * total else { continue }
            let percent = Double(errors * 1000 / total) / 10
            triggers.append(
                trigger(
                    rule, key: "tenant", "\(percent)% of requests answered \(isServer ? "5xx" : "4xx") in \(rule.windowSeconds) s",
                    ["errors": String(errors), "requests": String(total), "window_seconds": String(rule.windowSeconds)]))
        }
        return triggers
    }

    /// The unusual-volume rule: this minute's requests against the mean of the earlier minutes of the
    /// window (at least 10 of them seen, so a new tenant has a baseline first).
    mutating func volume(tenantID: String, at now: Int64, rule: AlertRule?) -> [AlertTrigger] {
        guard let rule else { return [] }
        let minute = now / 60_000
        let span = Int64(max(rule.windowSeconds / 60, 2))
        var volume = volumes[tenantID] ?? Volume()
        let latest = max(minute, volume.minutes.keys.max() ?? minute)
        guard minute > latest - span else { return [] }
        volume.minutes = volume.minutes.filter { $0.key > latest - span }
        volume.minutes[minute, default: 0] += 1
        volume.touched = max(volume.touched, now)
        // Only the newest minute is judged; an entry of an earlier minute arriving late only adds to the baseline.
        guard minute == latest else {
            volumes[tenantID] = volume
            return []
        }
        volumes[tenantID] = volume
        if volumes.count > maxKeys { evict(&volumes) }
        let current = volume.minutes[minute] ?? 0
        let earlier = volume.minutes.filter { $0.key < minute }
        guard earlier.count >= 10, current >= rule.minRequests else { return [] }
        // The mean over the whole earlier span: quiet minutes count as zero, at least one request a minute.
        let mean = max(1, earlier.values.reduce(0, +) / Int(span - 1))
        guard current > rule.threshold * mean else { return [] }
        return [
            trigger(
                rule, key: "tenant", "\(current) requests this minute, over \(rule.threshold) times the usual \(mean)",
                ["requests": String(current), "baseline_per_minute": String(mean)])
        ]
    }

    func evict<Value>(_ map: inout [String: Value]) where Value: Touched {
        guard let oldest = map.min(by: { $0.value.touched < $1.value.touched })?.key else { return }
        map.removeValue(forKey: oldest)
    }
}

protocol Touched {
    var touched: Int64 { get }
}

extension AlertEvaluator.Window: Touched {}
extension AlertEvaluator.Outcomes: Touched {}
extension AlertEvaluator.Volume: Touched {}

import Synchronization

/// When a project suspends a client for behaving unlike a client: too many refused calls (bad
/// parameters, routes it may not call, unknown paths) or too many calls from origins the project does
/// not list, within a window. On by default with generous thresholds; `"anomaly": {"enabled": false}`
/// turns it off.
public struct GatewayAnomalyPolicy: Sendable, Equatable {
    /// Whether clients are watched.
    public var enabled = true
    /// The counting window, seconds.
    public var windowSeconds = 60
    /// Refused calls per window before suspension.
    public var maxFailures = 50
    /// Calls from unlisted origins per window before suspension.
    public var maxOriginRefusals = 10
    /// How long a suspension lasts, seconds.
    public var suspendSeconds = 900

    /// Defaults.
    public init() {}

    /// Parses `{enabled?, window_seconds?, max_failures?, max_origin_refusals?, suspend_seconds?}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayAnomalyPolicy {
        var reader = try StrictObject(value, path: path)
        var policy = GatewayAnomalyPolicy()
        policy.enabled = try reader.bool("enabled") ?? true
        policy.windowSeconds = try reader.int("window_seconds", in: 1...86_400) ?? 60
        policy.maxFailures = try reader.int("max_failures", in: 1...1_000_000) ?? 50
        policy.maxOriginRefusals = try reader.int("max_origin_refusals", in: 1...1_000_000) ?? 10
        policy.suspendSeconds = try reader.int("suspend_seconds", in: 1...2_592_000) ?? 900
        try reader.finish()
        return policy
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        [
            "enabled": .bool(enabled), "window_seconds": .int(windowSeconds), "max_failures": .int(maxFailures),
            "max_origin_refusals": .int(maxOriginRefusals), "suspend_seconds": .int(suspendSeconds),
        ]
    }
}

/// One client's counts in the current window: a pure state machine driven by the caller's clock.
public struct AnomalyWindow: Sendable, Equatable {
    /// What was refused.
    public enum Event: Sendable, Equatable {
        /// A call refused for what the client sent or may do.
        case failure
        /// A call from an origin the project does not list.
        case originRefused
    }

    /// Start of the window, ms.
    public var start: Int64
    /// Refused calls in it.
    public var failures = 0
    /// Unlisted-origin calls in it.
    public var originRefusals = 0

    /// A window starting at `now`.
    public init(start: Int64) { self.start = start }

    /// Counts `event` at `now` (ms); returns the reason when this event crosses a threshold.
    public mutating func record(_ event: Event, now: Int64, policy: GatewayAnomalyPolicy) -> String? {
        if now - start >= Int64(policy.windowSeconds) * 1000 || now < start { self = AnomalyWindow(start: now) }
        switch event {
        case .failure:
            failures += 1
            return failures == policy.maxFailures ? "\(failures) refused calls within \(policy.windowSeconds) s" : nil
        case .originRefused:
            originRefusals += 1
            return originRefusals == policy.maxOriginRefusals ? "\(originRefusals) calls from unlisted origins within \(policy.windowSeconds) s" : nil
        }
    }
}

/// The windows of every client this instance has seen (bounded; suspensions themselves are stored and
/// shared by every instance).
public final class AnomalyTracker: Sendable {
    private let windows = Mutex<[String: AnomalyWindow]>([:])

    /// Creates a tracker.
    public init() {}

    /// Records `event` for `client` of a project; returns the reason when it crosses a threshold.
    public func record(_ event: AnomalyWindow.Event, key: String, now: Int64, policy: GatewayAnomalyPolicy) -> String? {
        windows.withLock { windows in
            if windows.count >= 100_000 && windows[key] == nil { windows.removeAll() }
            var window = windows[key] ?? AnomalyWindow(start: now)
            let crossed = window.record(event, now: now, policy: policy)
            windows[key] = crossed == nil ? window : AnomalyWindow(start: now)
            return crossed
        }
    }
}

import Synchronization

/// When a project suspends a client for behaving unlike a client: too many refused calls (bad
/// parameters, routes it may not call, unknown paths) or too many calls from origins the project does
/// not list, within a window (on by default with generous thresholds); and, when configured, bursts
/// far above the client's own baseline and calls from networks never seen for it. `"anomaly":
/// {"enabled": false}` turns it all off.
public struct GatewayAnomalyPolicy: Sendable, Equatable {
    /// Whether clients are watched.
    public var enabled = true
    /// The counting window, seconds.
    public var windowSeconds = 60
    /// Refused calls per window before suspension.
    public var maxFailures = 50
    /// Calls from unlisted origins per window before suspension.
    public var maxOriginRefusals = 10
    /// A window with at least this many times the client's baseline of calls per window is a burst
    /// (0: not watched).
    public var burstFactor = 0
    /// Fewest calls in a window that can be a burst (quiet clients are not suspended for a few calls).
    public var burstMinCalls = 100
    /// Calls per window from networks (IPv4 /24, IPv6 /48) never seen for the client before suspension
    /// (0: not watched).
    public var maxNewNetworks = 0
    /// How many of a client's first calls teach its networks.
    public var learningCalls = 100
    /// How long a suspension lasts, seconds.
    public var suspendSeconds = 900
    /// Whether a suspended client's API key (or publishable key) is also revoked at once.
    public var revokeKey = false

    /// Defaults.
    public init() {}

    /// Parses the `anomaly` member of a project; unknown fields are refused.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayAnomalyPolicy {
        var reader = try StrictObject(value, path: path)
        var policy = GatewayAnomalyPolicy()
        policy.enabled = try reader.bool("enabled") ?? true
        policy.windowSeconds = try reader.int("window_seconds", in: 1...86_400) ?? 60
        policy.maxFailures = try reader.int("max_failures", in: 1...1_000_000) ?? 50
        policy.maxOriginRefusals = try reader.int("max_origin_refusals", in: 1...1_000_000) ?? 10
        policy.burstFactor = try reader.int("burst_factor", in: 0...1_000) ?? 0
        guard policy.burstFactor != 1 else { throw CofferError(.invalidRequest, "'\(path).burst_factor' must be 0 (off) or at least 2") }
        policy.burstMinCalls = try reader.int("burst_min_calls", in: 1...100_000_000) ?? 100
        policy.maxNewNetworks = try reader.int("max_new_networks", in: 0...1_000_000) ?? 0
        policy.learningCalls = try reader.int("learning_calls", in: 1...1_000_000) ?? 100
        policy.suspendSeconds = try reader.int("suspend_seconds", in: 1...2_592_000) ?? 900
        policy.revokeKey = try reader.bool("revoke_key") ?? false
        try reader.finish()
        return policy
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        [
            "enabled": .bool(enabled), "window_seconds": .int(windowSeconds), "max_failures": .int(maxFailures),
            "max_origin_refusals": .int(maxOriginRefusals), "burst_factor": .int(burstFactor), "burst_min_calls": .int(burstMinCalls),
            "max_new_networks": .int(maxNewNetworks), "learning_calls": .int(learningCalls), "suspend_seconds": .int(suspendSeconds),
            "revoke_key": .bool(revokeKey),
        ]
    }
}

/// One client's counts in the current window and what it has learnt about the client (its baseline
/// calls per window, its networks): a pure state machine driven by the caller's clock.
public struct AnomalyWindow: Sendable, Equatable {
    /// What happened.
    public enum Event: Sendable, Equatable {
        /// A call refused for what the client sent or may do.
        case failure
        /// A call from an origin the project does not list.
        case originRefused
        /// A call admitted so far, from this network (see ``network(of:)``).
        case call(network: String)
    }

    /// Start of the window, ms.
    public var start: Int64
    /// Refused calls in it.
    public var failures = 0
    /// Unlisted-origin calls in it.
    public var originRefusals = 0
    /// Calls in it.
    public var calls = 0
    /// Calls in it from networks not learnt.
    public var newNetworkCalls = 0
    /// Calls per window, exponentially averaged over the past windows (weight 0.3 for the newest).
    public var baseline = 0.0
    /// Past windows averaged into the baseline.
    public var windowsSeen = 0
    /// Networks learnt from the client's first calls (at most 256).
    public var networks: Set<String> = []
    /// Calls that taught networks so far.
    public var learntCalls = 0

    /// Windows of history before bursts are judged.
    public static let baselineWindows = 3

    /// A window starting at `now`.
    public init(start: Int64) { self.start = start }

    /// Counts `event` at `now` (ms); returns the reason when this event crosses a threshold.
    public mutating func record(_ event: Event, now: Int64, policy: GatewayAnomalyPolicy) -> String? {
        roll(now: now, windowMillis: Int64(policy.windowSeconds) * 1000)
        switch event {
        case .failure:
            failures += 1
            return failures == policy.maxFailures ? "\(failures) refused calls within \(policy.windowSeconds) s" : nil
        case .originRefused:
            originRefusals += 1
            return originRefusals == policy.maxOriginRefusals ? "\(originRefusals) calls from unlisted origins within \(policy.windowSeconds) s" : nil
        case .call(let network):
            calls += 1
            if learntCalls < policy.learningCalls {
                learntCalls += 1
                if networks.count < 256 { networks.insert(network) }
            } else if !networks.contains(network) {
                newNetworkCalls += 1
                if policy.maxNewNetworks > 0 && newNetworkCalls == policy.maxNewNetworks {
                    return "\(newNetworkCalls) calls within \(policy.windowSeconds) s from networks never seen for this client (latest \(network))"
                }
            }
            guard policy.burstFactor > 0, windowsSeen >= Self.baselineWindows else { return nil }
            let threshold = max(policy.burstMinCalls, Int((Double(policy.burstFactor) * baseline).rounded(.up)))
            guard calls == threshold else { return nil }
            let usual = Int(baseline.rounded())
            return "\(calls) calls within \(policy.windowSeconds) s, \(policy.burstFactor)× or more the client's usual \(usual)"
        }
    }

    /// Starts the counts again (after a suspension), keeping what was learnt about the client.
    public mutating func restart(now: Int64) {
        start = now
        failures = 0
        originRefusals = 0
        calls = 0
        newNetworkCalls = 0
    }

    /// Closes the window (and any empty ones after it) into the baseline when `now` is past it.
    mutating func roll(now: Int64, windowMillis: Int64) {
        guard now - start >= windowMillis || now < start else { return }
        let elapsed = now < start ? 1 : min((now - start) / windowMillis, 100)
        baseline = windowsSeen == 0 ? Double(calls) : 0.7 * baseline + 0.3 * Double(calls)
        for _ in 1..<max(1, elapsed) { baseline *= 0.7 }
        windowsSeen += Int(elapsed)
        restart(now: now)
    }

    /// The network a client address counts in: its IPv4 /24 or IPv6 /48 (the text itself if it is not an address).
    public static func network(of address: String) -> String {
        guard let bytes = CIDR.parseAddress(address) else { return address }
        return bytes.count == 4
            ? "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24"
            : (CIDR("\(address)/48")?.description ?? address)
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
            if crossed != nil { window.restart(now: now) }
            windows[key] = window
            return crossed
        }
    }
}

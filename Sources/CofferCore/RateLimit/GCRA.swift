/// A rate limit as a pure state machine: the generic cell rate algorithm (GCRA), i.e. a leaky bucket
/// kept as one "theoretical arrival time". No clocks inside: the caller passes `now` (ms).
public struct GCRA: Sendable, Hashable {
    /// Requests allowed per period.
    public let limit: Int
    /// Period length in ms.
    public let periodMillis: Int64
    /// Theoretical arrival time of the next request (ms, fractional); the only state.
    public private(set) var tat: Double = 0

    /// A limiter allowing `limit` requests per `periodMillis`, with bursts up to `limit`.
    public init(limit: Int, periodMillis: Int64) {
        precondition(limit > 0 && periodMillis > 0, "a rate limit needs a positive limit and period")
        self.limit = limit
        self.periodMillis = periodMillis
    }

    /// A limiter resumed from stored state (a shared counter kept in a database).
    public init(limit: Int, periodMillis: Int64, tat: Double) {
        self.init(limit: limit, periodMillis: periodMillis)
        self.tat = tat
    }

    /// The state at `now` of a request this limiter just admitted (remaining burst, reset).
    public func admitted(now: Int64) -> Decision {
        Decision(allowed: true, remaining: remaining(tat: tat, now: Double(now)), resetMillis: millis(tat - Double(now)), retryAfterMillis: 0)
    }

    /// The outcome of one check.
    public struct Decision: Sendable, Hashable {
        /// Whether the request may proceed (and was counted).
        public let allowed: Bool
        /// Requests left in the current burst.
        public let remaining: Int
        /// Milliseconds until the bucket is full again.
        public let resetMillis: Int64
        /// Milliseconds to wait before retrying (0 when allowed).
        public let retryAfterMillis: Int64

        /// Creates a decision.
        public init(allowed: Bool, remaining: Int, resetMillis: Int64, retryAfterMillis: Int64) {
            self.allowed = allowed
            self.remaining = remaining
            self.resetMillis = resetMillis
            self.retryAfterMillis = retryAfterMillis
        }
    }

    /// Emission interval: the time one request "costs".
    var interval: Double { Double(periodMillis) / Double(limit) }

    /// Checks (and, when allowed, counts) a request of weight `cost` at `now`.
    public mutating func check(now: Int64, cost: Int = 1) -> Decision {
        let clock = Double(now)
        let increment = interval * Double(max(cost, 0))
        let burst = Double(periodMillis)  // limit × interval
        let start = max(tat, clock)
        let newTAT = start + increment
        let allowAt = newTAT - burst
        // A small epsilon absorbs floating-point drift (7 × (1000 / 7) may exceed 1000 by 1e-13).
        if cost > limit || allowAt > clock + 1e-6 {
            let retry = cost > limit ? periodMillis : Int64((allowAt - clock).rounded(.up))
            return Decision(allowed: false, remaining: remaining(tat: start, now: clock), resetMillis: millis(start - clock), retryAfterMillis: retry)
        }
        tat = newTAT
        return Decision(allowed: true, remaining: remaining(tat: newTAT, now: clock), resetMillis: millis(newTAT - clock), retryAfterMillis: 0)
    }

    func remaining(tat: Double, now: Double) -> Int {
        let used = max(0, tat - now) / interval
        return max(0, limit - Int((used - 1e-9).rounded(.up)))
    }

    func millis(_ value: Double) -> Int64 { Int64(max(0, value).rounded(.up)) }
}

/// A long-term quota: at most `limit` units per fixed window (a UTC day or a 30-day month), as a pure state machine.
public struct QuotaWindow: Sendable, Hashable {
    /// Units allowed per window.
    public let limit: Int
    /// Window length in ms.
    public let windowMillis: Int64
    /// Start of the current window (ms).
    public private(set) var windowStart: Int64 = 0
    /// Units used in the current window.
    public private(set) var used: Int = 0

    /// A quota of `limit` per window.
    public init(limit: Int, windowMillis: Int64) {
        precondition(limit >= 0 && windowMillis > 0, "a quota needs a non-negative limit and a positive window")
        self.limit = limit
        self.windowMillis = windowMillis
    }

    /// A quota resumed from stored state.
    public init(limit: Int, windowMillis: Int64, windowStart: Int64, used: Int) {
        self.init(limit: limit, windowMillis: windowMillis)
        self.windowStart = windowStart
        self.used = used
    }

    /// The outcome of consuming from a quota.
    public struct Decision: Sendable, Hashable {
        /// Whether the units were granted (and counted).
        public let allowed: Bool
        /// Units left in this window.
        public let remaining: Int
        /// Milliseconds until the window ends.
        public let resetMillis: Int64

        /// Creates a decision.
        public init(allowed: Bool, remaining: Int, resetMillis: Int64) {
            self.allowed = allowed
            self.remaining = remaining
            self.resetMillis = resetMillis
        }
    }

    /// The start of the window holding `now`.
    public func windowStart(at now: Int64) -> Int64 { now - now % windowMillis }

    /// Consumes `cost` units at `now` if the quota allows.
    public mutating func consume(now: Int64, cost: Int = 1) -> Decision {
        let start = windowStart(at: now)
        if start != windowStart {
            windowStart = start
            used = 0
        }
        let reset = windowStart + windowMillis - now
        guard used + cost <= limit else { return Decision(allowed: false, remaining: max(0, limit - used), resetMillis: reset) }
        used += cost
        return Decision(allowed: true, remaining: limit - used, resetMillis: reset)
    }
}

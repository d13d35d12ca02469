/// Failed logins counted for one subject (a user, or a client address) of an auth method.
public struct LockoutState: Sendable, Hashable {
    /// Failures in the current window.
    public var failures: Int
    /// When the window began, ms.
    public var windowStart: Int64
    /// Locked until this time, ms, if locked.
    public var lockedUntil: Int64?

    /// Creates a state.
    public init(failures: Int, windowStart: Int64, lockedUntil: Int64? = nil) {
        self.failures = failures
        self.windowStart = windowStart
        self.lockedUntil = lockedUntil
    }
}

/// The lockout rules (Vault's `user_lockout_config`): after `threshold` failures within
/// `counterResetMillis` of the first, the subject is locked for `durationMillis`; a success clears the
/// count. Each failure after the first also slows the answer down (progressive delay). Pure: the
/// caller supplies the time.
public struct LockoutPolicy: Sendable, Hashable {
    /// Failures that lock (0 = never lock).
    public var threshold: Int
    /// How long a lockout lasts, ms.
    public var durationMillis: Int64
    /// How long failures are remembered without reaching the threshold, ms.
    public var counterResetMillis: Int64

    /// Creates a policy.
    public init(threshold: Int, durationMillis: Int64, counterResetMillis: Int64) {
        self.threshold = threshold
        self.durationMillis = durationMillis
        self.counterResetMillis = counterResetMillis
    }

    /// Vault's defaults for a user: 5 failures, locked 15 minutes, counter reset after 15 minutes.
    public static let userDefault = LockoutPolicy(threshold: 5, durationMillis: 900_000, counterResetMillis: 900_000)
    /// Coffer's default for one client address across every user of a method: 20 failures.
    public static let addressDefault = LockoutPolicy(threshold: 20, durationMillis: 900_000, counterResetMillis: 900_000)

    /// The time the subject stays locked until, if it is locked at `now`.
    public func lockedUntil(_ state: LockoutState?, now: Int64) -> Int64? {
        guard threshold > 0, let until = state?.lockedUntil, now < until else { return nil }
        return until
    }

    /// The state after a failure at `now`: a new window once the old one has passed (or a lockout has
    /// ended), and a lockout when the count reaches the threshold.
    public func recordingFailure(_ state: LockoutState?, now: Int64) -> LockoutState {
        var next = LockoutState(failures: 0, windowStart: now)
        if let state, lockedUntil(state, now: now) != nil {
            return state
        }
        if let state, state.lockedUntil == nil, now - state.windowStart < counterResetMillis, now >= state.windowStart {
            next = state
        }
        next.failures += 1
        if threshold > 0, next.failures >= threshold { next.lockedUntil = now + durationMillis }
        return next
    }

    /// Whether `after` is a lockout that `before` was not (the moment to revoke sessions and alert).
    public func becameLocked(from before: LockoutState?, to after: LockoutState, now: Int64) -> Bool {
        lockedUntil(after, now: now) != nil && lockedUntil(before, now: now) == nil
    }

    /// The delay before answering the `failures`-th failure: none for the first, then 250 ms doubling,
    /// at most 2 s.
    public static func delayMillis(failures: Int) -> Int64 {
        guard failures > 1 else { return 0 }
        return min(2_000, 250 << min(failures - 2, 4))
    }
}

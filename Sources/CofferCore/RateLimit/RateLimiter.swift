/// Where rate-limit and quota state lives. In one process (SQLite deployments) it is memory; when
/// several instances share PostgreSQL it is a table there, so every instance sees the same counters.
public protocol RateLimiterBackend: Sendable {
    /// Checks (and, when allowed, counts) `cost` requests against a GCRA limit of `limit` per `periodMillis`.
    func rate(bucket: String, limit: Int, periodMillis: Int64, cost: Int, now: Int64) async throws -> GCRA.Decision
    /// Consumes `cost` units of a quota of `limit` per fixed window of `windowMillis`, if it allows.
    func quota(bucket: String, limit: Int, windowMillis: Int64, cost: Int, now: Int64) async throws -> QuotaWindow.Decision
    /// Hands back `units` counted by ``rate(bucket:limit:periodMillis:cost:now:)`` but never used (a lease's rest).
    func releaseRate(bucket: String, limit: Int, periodMillis: Int64, units: Int) async throws
    /// Hands back `units` of the quota window starting at `windowStart` counted but never used.
    func releaseQuota(bucket: String, windowMillis: Int64, windowStart: Int64, units: Int) async throws
}

extension RateLimiterBackend {
    /// Nothing to hand back: this backend never leases.
    public func releaseRate(bucket: String, limit: Int, periodMillis: Int64, units: Int) async throws {}
    /// Nothing to hand back: this backend never leases.
    public func releaseQuota(bucket: String, windowMillis: Int64, windowStart: Int64, units: Int) async throws {}
}

/// A limit's state as the client sees it (`RateLimit-*` and `Retry-After` headers).
public struct RateLimitStatus: Sendable, Hashable {
    /// Requests allowed per period.
    public var limit: Int
    /// Requests left now.
    public var remaining: Int
    /// Seconds until the limit is fully available again.
    public var resetSeconds: Int64
    /// Seconds to wait before retrying; `nil` when the request was allowed.
    public var retryAfterSeconds: Int64?

    /// Creates a status.
    public init(limit: Int, remaining: Int, resetSeconds: Int64, retryAfterSeconds: Int64?) {
        self.limit = limit
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The status after a GCRA decision.
    public init(limit: Int, _ decision: GCRA.Decision) {
        self.init(
            limit: limit, remaining: decision.remaining, resetSeconds: Self.seconds(decision.resetMillis),
            retryAfterSeconds: decision.allowed ? nil : max(1, Self.seconds(decision.retryAfterMillis)))
    }

    /// Milliseconds rounded up to whole seconds (never negative).
    public static func seconds(_ millis: Int64) -> Int64 { (max(0, millis) + 999) / 1000 }
}

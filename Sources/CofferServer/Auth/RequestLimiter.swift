import CofferCore
import Synchronization

/// Applies the request limits of Coffer's own API: per credential (its tier, or an API key's own limit and
/// quota), per tenant, and per client address for requests without a valid credential. A refusal is
/// `RATE_LIMITED` or `QUOTA_EXCEEDED` (HTTP 429) carrying `Retry-After` and the `RateLimit-*` values.
struct RequestLimiter: Sendable {
    let backend: any RateLimiterBackend
    let tiers: RateLimitTiers
    let clock: any CofferClock
    /// Counts refusals by tier, when metrics are kept.
    var metrics: CofferMetrics?

    static let minute: Int64 = 60_000

    /// Counts a request of an authenticated caller; throws when a limit refuses it.
    func admit(_ caller: Caller, notes: RequestNotes) async throws {
        let now = clock.nowMillis
        var status: RateLimitStatus?
        if let key = caller.apiKey, key.rateLimit > 0 {
            status = try await check("key:\(key.id)", tier: .apiKey, limit: key.rateLimit, period: key.ratePeriodMillis, now: now)
        } else {
            let tier = caller.isAdmin ? tiers.servicePerMinute : tiers.authenticatedPerMinute
            status = try await check("cred:\(caller.credentialID)", tier: caller.isAdmin ? .service : .authenticated, limit: tier, now: now)
        }
        if let key = caller.apiKey, key.quotaLimit > 0 {
            let decision = try await backend.quota(
                bucket: "quota:\(key.id)", limit: key.quotaLimit, windowMillis: key.quotaWindowMillis, cost: 1, now: now)
            if !decision.allowed {
                metrics?.rateLimitRefused(.quota)
                let reset = RateLimitStatus.seconds(decision.resetMillis)
                throw CofferError(
                    .quotaExceeded, "this API key has used its quota; it renews when the window ends",
                    rateLimit: RateLimitStatus(limit: key.quotaLimit, remaining: 0, resetSeconds: reset, retryAfterSeconds: max(1, reset)))
            }
        }
        if let tenantStatus = try await check("tenant:\(caller.tenant.id)", tier: .tenant, limit: tiers.tenantPerMinute, now: now),
            tenantStatus.remaining < (status?.remaining ?? .max)
        {
            status = tenantStatus
        }
        if let status { notes.rateLimit = status }
    }

    /// Counts a request that failed authentication against its client address; throws `RATE_LIMITED`
    /// once the anonymous tier is used up, so credential guessing is slowed down.
    func admitAnonymous(clientIP: String, notes: RequestNotes) async throws {
        guard let status = try await check("anon:\(clientIP)", tier: .anonymous, limit: tiers.anonymousPerMinute, now: clock.nowMillis) else {
            return
        }
        notes.rateLimit = status
    }

    /// Checks one GCRA bucket; `nil` when the limit is off (0).
    func check(_ bucket: String, tier: CofferMetrics.Tier, limit: Int, period: Int64 = minute, now: Int64) async throws -> RateLimitStatus? {
        guard limit > 0 else { return nil }
        let decision = try await backend.rate(bucket: bucket, limit: limit, periodMillis: period, cost: 1, now: now)
        let status = RateLimitStatus(limit: limit, decision)
        guard decision.allowed else {
            metrics?.rateLimitRefused(tier)
            throw CofferError(.rateLimited, "too many requests; retry later", rateLimit: status)
        }
        return status
    }
}

/// Facts about the current request that end up in response headers (the tightest rate limit seen).
final class RequestNotes: Sendable {
    private let state = Mutex<RateLimitStatus?>(nil)
    private let cors = Mutex<[(String, String)]>([])

    /// CORS headers for an allowed origin, added to the response whatever it is (errors included, so a
    /// browser can read why a call failed). Empty for every other request.
    var corsHeaders: [(String, String)] {
        get { cors.withLock { $0 } }
        set { cors.withLock { $0 = newValue } }
    }

    private let wrap = Mutex<(requested: Bool, answer: JSONValue?)>((false, nil))

    /// Empty notes.
    init() {}

    /// Whether the client asked for the answer wrapped (`X-Vault-Wrap-TTL`).
    var wrapRequested: Bool {
        get { wrap.withLock { $0.requested } }
        set { wrap.withLock { $0.requested = newValue } }
    }

    /// The answer a handler built while wrapping was requested (its envelope, without `request_id`):
    /// the wrapping middleware seals it instead of sending it.
    var wrappable: JSONValue? {
        get { wrap.withLock { $0.answer } }
        set { wrap.withLock { $0.answer = newValue } }
    }

    /// The rate-limit status to report.
    var rateLimit: RateLimitStatus? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

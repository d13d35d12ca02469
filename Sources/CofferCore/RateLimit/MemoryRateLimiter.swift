import Synchronization

/// Rate-limit and quota state in this process's memory: right for a single instance (SQLite).
/// Buckets whose limiter is back to full are dropped once the table grows, so memory stays bounded
/// by the number of recently active clients.
public final class MemoryRateLimiter: RateLimiterBackend {
    struct State {
        var rates: [String: GCRA] = [:]
        var quotas: [String: QuotaWindow] = [:]
        var nextRateSweep: Int
        var nextQuotaSweep: Int
    }

    private let state: Mutex<State>
    private let sweepThreshold: Int

    /// Creates an empty limiter; idle buckets are swept once more than `sweepThreshold` exist. When a
    /// sweep frees little (many clients really are active), the next one waits until the table has
    /// doubled, so sweeping stays amortised O(1) per request even under a flood of new addresses.
    public init(sweepThreshold: Int = 100_000) {
        self.sweepThreshold = sweepThreshold
        state = Mutex(State(nextRateSweep: sweepThreshold, nextQuotaSweep: sweepThreshold))
    }

    /// Checks a GCRA limit.
    public func rate(bucket: String, limit: Int, periodMillis: Int64, cost: Int, now: Int64) async throws -> GCRA.Decision {
        state.withLock { state in
            if state.rates.count > state.nextRateSweep {
                state.rates = state.rates.filter { $0.value.tat > Double(now) }
                state.nextRateSweep = max(sweepThreshold, state.rates.count * 2)
            }
            var limiter =
                state.rates[bucket].flatMap { $0.limit == limit && $0.periodMillis == periodMillis ? $0 : nil }
                ?? GCRA(limit: limit, periodMillis: periodMillis)
            let decision = limiter.check(now: now, cost: cost)
            state.rates[bucket] = limiter
            return decision
        }
    }

    /// Consumes a quota.
    public func quota(bucket: String, limit: Int, windowMillis: Int64, cost: Int, now: Int64) async throws -> QuotaWindow.Decision {
        state.withLock { state in
            if state.quotas.count > state.nextQuotaSweep {
                state.quotas = state.quotas.filter { $0.value.windowStart + $0.value.windowMillis > now }
                state.nextQuotaSweep = max(sweepThreshold, state.quotas.count * 2)
            }
            var window =
                state.quotas[bucket].flatMap { $0.limit == limit && $0.windowMillis == windowMillis ? $0 : nil }
                ?? QuotaWindow(limit: limit, windowMillis: windowMillis)
            let decision = window.consume(now: now, cost: cost)
            state.quotas[bucket] = window
            return decision
        }
    }

    /// Number of buckets held (for tests of the sweep).
    public var bucketCount: Int { state.withLock { $0.rates.count + $0.quotas.count } }
}

import Synchronization

/// Shared rate limits and quotas without a database round-trip per request. An instance reserves a
/// slice of a bucket's budget (a *lease*: `limit / share` units, counted in the shared backend at once)
/// and admits requests from it locally; when the slice is spent or older than `maxAgeMillis` it takes
/// the next one, handing back what it did not use.
///
/// The bound, documented in `docs/production.md`: the backend has counted every admitted request before
/// it was admitted, so the instances together never admit more than the limit; what they can fail to
/// admit is at most the unused part of the live leases, `instances × limit / share` — with the default
/// share of 300, 1% of the limit across three instances. A limit below `share` leases one unit, i.e. is
/// checked in the backend on every request, exactly as without leases. While one request refills a
/// lease, concurrent requests for that bucket wait for it (one backend call serves them all) rather
/// than each reserving a slice or each calling the backend.
public final class LeasedRateLimiter: RateLimiterBackend {
    struct Lease {
        var units: Int
        var granted: Int64
        var limit: Int
        var span: Int64
        /// What the backend reported when the lease was granted (headers are built from it).
        var backendRemaining: Int
        var resetAt: Int64
        /// Quota leases belong to one window.
        var windowStart: Int64 = 0
        var refilling = false
        /// Requests waiting for the refill in flight.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    struct State {
        var rates: [String: Lease] = [:]
        var quotas: [String: Lease] = [:]
    }

    private let backend: any RateLimiterBackend
    private let share: Int
    private let maxAgeMillis: Int64
    private let state = Mutex(State())

    /// Leases `limit / share` units of each bucket (at least one) for at most `maxAgeMillis`.
    public init(backend: any RateLimiterBackend, share: Int = 300, maxAgeMillis: Int64 = 1_000) {
        self.backend = backend
        self.share = max(1, share)
        self.maxAgeMillis = max(1, maxAgeMillis)
    }

    /// Units one lease of a `limit` reserves.
    public func leaseSize(limit: Int) -> Int { max(1, limit / share) }

    enum Take {
        case admitted(Lease)
        case refill(returning: Int)
    }

    /// Takes `cost` units from a live lease, or says what to ask the backend for; `nil` while another
    /// request refills this bucket's lease (wait for it, then ask again).
    private func take(
        _ leases: inout [String: Lease], bucket: String, limit: Int, span: Int64, cost: Int, now: Int64, window: Int64
    )
        -> Take?
    {
        if leases[bucket]?.refilling == true { return nil }
        guard var lease = leases[bucket], lease.limit == limit, lease.span == span else {
            leases[bucket] = Lease(
                units: 0, granted: now, limit: limit, span: span, backendRemaining: 0, resetAt: now, windowStart: window, refilling: true)
            return .refill(returning: 0)
        }
        let live = now - lease.granted < maxAgeMillis && lease.windowStart == window
        if live, lease.units >= cost {
            lease.units -= cost
            leases[bucket] = lease
            return .admitted(lease)
        }
        // Unused units of an old quota window need no return: that window is over.
        let unused = lease.windowStart == window ? lease.units : 0
        lease.units = 0
        lease.refilling = true
        leases[bucket] = lease
        return .refill(returning: unused)
    }

    /// Ends a refill: stores the new lease (or none) and wakes the requests that waited for it.
    private func settle(_ keyPath: WritableKeyPath<State, [String: Lease]>, bucket: String, _ lease: Lease?) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let waiting = state[keyPath: keyPath][bucket]?.waiters ?? []
            if let lease {
                state[keyPath: keyPath][bucket] = lease
            } else {
                state[keyPath: keyPath][bucket]?.refilling = false
                state[keyPath: keyPath][bucket]?.waiters = []
            }
            return waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Takes from `keyPath`'s lease for `bucket`, first waiting out any refill in flight for it.
    private func takeWaiting(
        _ keyPath: WritableKeyPath<State, [String: Lease]>, bucket: String, limit: Int, span: Int64, cost: Int, now: Int64, window: Int64
    ) async -> Take {
        while true {
            let taken = state.withLock { take(&$0[keyPath: keyPath], bucket: bucket, limit: limit, span: span, cost: cost, now: now, window: window) }
            if let taken { return taken }
            await waitForRefill(keyPath, bucket: bucket)
        }
    }

    /// Waits until the refill in flight for `bucket` ends (at once if it already has).
    private func waitForRefill(_ keyPath: WritableKeyPath<State, [String: Lease]>, bucket: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queued = state.withLock { state -> Bool in
                guard state[keyPath: keyPath][bucket]?.refilling == true else { return false }
                state[keyPath: keyPath][bucket]?.waiters.append(continuation)
                return true
            }
            if !queued { continuation.resume() }
        }
    }

    /// Checks a GCRA limit against the local lease, refilling it from the backend when needed.
    public func rate(bucket: String, limit: Int, periodMillis: Int64, cost: Int, now: Int64) async throws -> GCRA.Decision {
        let taken = await takeWaiting(\.rates, bucket: bucket, limit: limit, span: periodMillis, cost: cost, now: now, window: 0)
        switch taken {
        case .admitted(let lease):
            return GCRA.Decision(
                allowed: true, remaining: min(limit, lease.backendRemaining + lease.units), resetMillis: max(0, lease.resetAt - now),
                retryAfterMillis: 0)
        case .refill(let unused):
            do {
                if unused > 0 { try await backend.releaseRate(bucket: bucket, limit: limit, periodMillis: periodMillis, units: unused) }
                let size = leaseSize(limit: limit)
                if size > cost {
                    let decision = try await backend.rate(bucket: bucket, limit: limit, periodMillis: periodMillis, cost: size, now: now)
                    if decision.allowed {
                        let lease = Lease(
                            units: size - cost, granted: now, limit: limit, span: periodMillis, backendRemaining: decision.remaining,
                            resetAt: now + decision.resetMillis)
                        settle(\.rates, bucket: bucket, lease)
                        return GCRA.Decision(
                            allowed: true, remaining: min(limit, decision.remaining + lease.units), resetMillis: decision.resetMillis,
                            retryAfterMillis: 0)
                    }
                    if decision.remaining < cost {
                        settle(\.rates, bucket: bucket, nil)
                        return decision
                    }
                }
                let decision = try await backend.rate(bucket: bucket, limit: limit, periodMillis: periodMillis, cost: cost, now: now)
                settle(\.rates, bucket: bucket, nil)
                return decision
            } catch {
                settle(\.rates, bucket: bucket, nil)
                throw error
            }
        }
    }

    /// Consumes a quota from the local lease, refilling it from the backend when needed.
    public func quota(bucket: String, limit: Int, windowMillis: Int64, cost: Int, now: Int64) async throws -> QuotaWindow.Decision {
        let window = now - now % windowMillis
        let taken = await takeWaiting(\.quotas, bucket: bucket, limit: limit, span: windowMillis, cost: cost, now: now, window: window)
        let reset = window + windowMillis - now
        switch taken {
        case .admitted(let lease):
            return QuotaWindow.Decision(allowed: true, remaining: min(limit, lease.backendRemaining + lease.units), resetMillis: reset)
        case .refill(let unused):
            do {
                if unused > 0 {
                    try await backend.releaseQuota(bucket: bucket, windowMillis: windowMillis, windowStart: window, units: unused)
                }
                let size = leaseSize(limit: limit)
                if size > cost {
                    let decision = try await backend.quota(bucket: bucket, limit: limit, windowMillis: windowMillis, cost: size, now: now)
                    if decision.allowed {
                        let lease = Lease(
                            units: size - cost, granted: now, limit: limit, span: windowMillis, backendRemaining: decision.remaining,
                            resetAt: now + reset, windowStart: window)
                        settle(\.quotas, bucket: bucket, lease)
                        return QuotaWindow.Decision(allowed: true, remaining: min(limit, decision.remaining + lease.units), resetMillis: reset)
                    }
                    if decision.remaining < cost {
                        settle(\.quotas, bucket: bucket, nil)
                        return decision
                    }
                }
                let decision = try await backend.quota(bucket: bucket, limit: limit, windowMillis: windowMillis, cost: cost, now: now)
                settle(\.quotas, bucket: bucket, nil)
                return decision
            } catch {
                settle(\.quotas, bucket: bucket, nil)
                throw error
            }
        }
    }

    /// Hands back the unused units of every lease older than the maximum age (run about once a second,
    /// so an idle instance does not hold budget another needs) and forgets those leases.
    public func releaseExpired(now: Int64) async {
        let expired = state.withLock { state -> (rates: [(String, Lease)], quotas: [(String, Lease)]) in
            func drain(_ leases: inout [String: Lease]) -> [(String, Lease)] {
                let old = leases.filter { !$0.value.refilling && now - $0.value.granted >= maxAgeMillis }
                for key in old.keys { leases[key] = nil }
                return old.filter { $0.value.units > 0 }.map { ($0.key, $0.value) }
            }
            return (drain(&state.rates), drain(&state.quotas))
        }
        for (bucket, lease) in expired.rates {
            try? await backend.releaseRate(bucket: bucket, limit: lease.limit, periodMillis: lease.span, units: lease.units)
        }
        for (bucket, lease) in expired.quotas where lease.windowStart == now - now % lease.span {
            try? await backend.releaseQuota(bucket: bucket, windowMillis: lease.span, windowStart: lease.windowStart, units: lease.units)
        }
    }

    /// Units currently held in leases (for tests and metrics).
    public var heldUnits: Int { state.withLock { $0.rates.values.reduce(0) { $0 + $1.units } + $0.quotas.values.reduce(0) { $0 + $1.units } } }

    /// Hands back units reserved but not used.
    public func releaseRate(bucket: String, limit: Int, periodMillis: Int64, units: Int) async throws {
        try await backend.releaseRate(bucket: bucket, limit: limit, periodMillis: periodMillis, units: units)
    }

    /// Hands back quota units reserved but not used.
    public func releaseQuota(bucket: String, windowMillis: Int64, windowStart: Int64, units: Int) async throws {
        try await backend.releaseQuota(bucket: bucket, windowMillis: windowMillis, windowStart: windowStart, units: units)
    }
}

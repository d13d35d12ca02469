import CofferCore
import Synchronization
import Testing

/// A shared backend as the database behaves: exact GCRA and quota arithmetic, counting calls, and
/// honouring hand-backs of unused units.
final class ExactBackend: RateLimiterBackend {
    struct State {
        var rates: [String: GCRA] = [:]
        var quotas: [String: QuotaWindow] = [:]
        var calls = 0
    }

    let state = Mutex(State())
    let delay: Duration

    init(delay: Duration = .zero) { self.delay = delay }

    var calls: Int { state.withLock { $0.calls } }

    func rate(bucket: String, limit: Int, periodMillis: Int64, cost: Int, now: Int64) async throws -> GCRA.Decision {
        if delay > .zero { try await Task.sleep(for: delay) }
        return state.withLock { state in
            state.calls += 1
            var limiter = state.rates[bucket] ?? GCRA(limit: limit, periodMillis: periodMillis)
            let decision = limiter.check(now: now, cost: cost)
            state.rates[bucket] = limiter
            return decision
        }
    }

    func quota(bucket: String, limit: Int, windowMillis: Int64, cost: Int, now: Int64) async throws -> QuotaWindow.Decision {
        state.withLock { state in
            state.calls += 1
            var window = state.quotas[bucket] ?? QuotaWindow(limit: limit, windowMillis: windowMillis)
            let decision = window.consume(now: now, cost: cost)
            state.quotas[bucket] = window
            return decision
        }
    }

    func releaseRate(bucket: String, limit: Int, periodMillis: Int64, units: Int) async throws {
        state.withLock { state in
            guard let limiter = state.rates[bucket] else { return }
            let back = Double(periodMillis) / Double(limit) * Double(units)
            state.rates[bucket] = GCRA(limit: limit, periodMillis: periodMillis, tat: limiter.tat - back)
        }
    }

    func releaseQuota(bucket: String, windowMillis: Int64, windowStart: Int64, units: Int) async throws {
        state.withLock { state in
            guard let window = state.quotas[bucket], window.windowStart == windowStart else { return }
            state.quotas[bucket] = QuotaWindow(
                limit: window.limit, windowMillis: windowMillis, windowStart: windowStart, used: max(0, window.used - units))
        }
    }
}

@Suite("Leased rate limiter")
struct LeasedRateLimiterTests {
    @Test func aLeaseServesManyRequestsFromOneBackendCall() async throws {
        let backend = ExactBackend()
        let limiter = LeasedRateLimiter(backend: backend)
        #expect(limiter.leaseSize(limit: 30_000) == 100 && limiter.leaseSize(limit: 100) == 1)
        for _ in 0..<100 {
            #expect(try await limiter.rate(bucket: "k", limit: 30_000, periodMillis: 60_000, cost: 1, now: 1_000).allowed)
        }
        #expect(backend.calls == 1, "one lease of 100 units served 100 requests")
        #expect(try await limiter.rate(bucket: "k", limit: 30_000, periodMillis: 60_000, cost: 1, now: 1_000).allowed)
        #expect(backend.calls == 2)
    }

    @Test func smallLimitsAreCheckedExactlyEveryTime() async throws {
        let backend = ExactBackend()
        let limiter = LeasedRateLimiter(backend: backend)
        var allowed = 0
        for _ in 0..<15 where try await limiter.rate(bucket: "small", limit: 10, periodMillis: 60_000, cost: 1, now: 0).allowed { allowed += 1 }
        #expect(allowed == 10 && backend.calls == 15)
    }

    /// Three instances on one backend, interleaved at random: never more than the limit, and never
    /// less than the limit minus what the instances hold unused (1% across three).
    @Test(arguments: [1, 2, 3])
    func threeInstancesStayWithinOnePercent(seed: Int) async throws {
        let backend = ExactBackend()
        let instances = (0..<3).map { _ in LeasedRateLimiter(backend: backend) }
        var generator = SeededGenerator(seed: UInt64(seed))
        var admitted = 0
        for _ in 0..<35_000 {
            let instance = instances[Int.random(in: 0..<3, using: &generator)]
            if try await instance.rate(bucket: "shared", limit: 30_000, periodMillis: 60_000, cost: 1, now: 5_000).allowed { admitted += 1 }
        }
        let held = instances.reduce(0) { $0 + $1.heldUnits }
        #expect(admitted <= 30_000 && admitted + held == 30_000, "admitted \(admitted), held \(held)")
        #expect(admitted >= 29_700, "within 1%: \(admitted)")
    }

    /// Many concurrent requests on one instance against a slow backend: while one refills the lease
    /// the others go to the backend one by one, and the total still never passes the limit.
    @Test func concurrentRefillsNeverOverAdmit() async throws {
        let backend = ExactBackend(delay: .milliseconds(1))
        let limiter = LeasedRateLimiter(backend: backend)
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    var count = 0
                    for _ in 0..<400 where try await limiter.rate(bucket: "c", limit: 9_000, periodMillis: 60_000, cost: 1, now: 0).allowed {
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(admitted + limiter.heldUnits == 9_000 && admitted >= 9_000 - 30, "admitted \(admitted), held \(limiter.heldUnits)")
        #expect(backend.calls < 12_800 / 2, "leases served most requests locally: \(backend.calls) backend calls")
    }

    @Test func expiredLeasesHandBackWhatTheyDidNotUse() async throws {
        let backend = ExactBackend()
        let first = LeasedRateLimiter(backend: backend)
        let second = LeasedRateLimiter(backend: backend)
        #expect(try await first.rate(bucket: "b", limit: 600, periodMillis: 60_000, cost: 1, now: 0).allowed)
        #expect(first.heldUnits == 1)
        // The other instance can take all but the held unit at once.
        #expect(try await second.rate(bucket: "b", limit: 600, periodMillis: 60_000, cost: 599, now: 0).allowed == false)
        await first.releaseExpired(now: 999)
        #expect(first.heldUnits == 1, "not yet a second old")
        await first.releaseExpired(now: 1_000)
        #expect(first.heldUnits == 0)
        // The unit handed back joins the 598 that were free: all 599 fit now.
        #expect(try await second.rate(bucket: "b", limit: 600, periodMillis: 60_000, cost: 599, now: 0).allowed)
    }

    @Test func aStaleLeaseIsRefilledAfterItsMaximumAge() async throws {
        let backend = ExactBackend()
        let limiter = LeasedRateLimiter(backend: backend, share: 10, maxAgeMillis: 500)
        #expect(try await limiter.rate(bucket: "s", limit: 100, periodMillis: 60_000, cost: 1, now: 0).allowed)
        #expect(backend.calls == 1 && limiter.heldUnits == 9)
        #expect(try await limiter.rate(bucket: "s", limit: 100, periodMillis: 60_000, cost: 1, now: 500).allowed)
        #expect(backend.calls == 2 && limiter.heldUnits == 9, "the nine unused units went back; a fresh lease of ten was taken")
    }

    @Test func quotaLeasesBelongToTheirWindow() async throws {
        let backend = ExactBackend()
        let limiter = LeasedRateLimiter(backend: backend, share: 10)
        let day: Int64 = 86_400_000
        var granted = 0
        for _ in 0..<120 where try await limiter.quota(bucket: "q", limit: 100, windowMillis: day, cost: 1, now: 10).allowed { granted += 1 }
        #expect(granted == 100)
        let refused = try await limiter.quota(bucket: "q", limit: 100, windowMillis: day, cost: 1, now: 20)
        #expect(!refused.allowed && refused.remaining == 0 && refused.resetMillis == day - 20)
        let next = try await limiter.quota(bucket: "q", limit: 100, windowMillis: day, cost: 1, now: day)
        #expect(next.allowed && next.remaining == 99, "a new window: a new lease (\(next))")
    }

    @Test func aRefusedLeaseFallsBackToTheExactCost() async throws {
        let backend = ExactBackend()
        let limiter = LeasedRateLimiter(backend: backend, share: 10)
        // 95 of 100 taken directly on the backend by another party: a lease of 10 does not fit, 1 does.
        _ = try await backend.rate(bucket: "f", limit: 100, periodMillis: 60_000, cost: 95, now: 0)
        var granted = 0
        for _ in 0..<8 where try await limiter.rate(bucket: "f", limit: 100, periodMillis: 60_000, cost: 1, now: 0).allowed { granted += 1 }
        #expect(granted == 5 && limiter.heldUnits == 0)
    }
}

/// A small deterministic generator (SplitMix64) so the interleaving is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

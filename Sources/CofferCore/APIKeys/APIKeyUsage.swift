import Synchronization

/// What verifications did since the last flush: last-use times per key (written in batches, so
/// `last_used` is accurate within the flush interval without a database write per request) and
/// outcome counts per tenant (written to the audit log as periodic summaries).
public final class APIKeyUsage: Sendable {
    struct State {
        var lastUsed: [String: Int64] = [:]
        var tallies: [String: [APIKeyVerifyCode: Int]] = [:]
        var totals: [APIKeyVerifyCode: Int] = [:]
    }

    private let state = Mutex(State())

    /// Creates an empty record.
    public init() {}

    /// Notes a successful use of key `id` at `time`.
    public func used(_ id: String, at time: Int64) {
        state.withLock { state in
            if (state.lastUsed[id] ?? .min) < time { state.lastUsed[id] = time }
        }
    }

    /// Counts one verification outcome in `tenantID`.
    public func count(tenantID: String, code: APIKeyVerifyCode) {
        state.withLock { state in
            state.tallies[tenantID, default: [:]][code, default: 0] += 1
            state.totals[code, default: 0] += 1
        }
    }

    /// Every outcome counted since start-up, across tenants (never drained: the metrics read it).
    public var totals: [APIKeyVerifyCode: Int] { state.withLock { $0.totals } }

    /// Takes the pending last-use times.
    public func drainLastUsed() -> [(id: String, time: Int64)] {
        state.withLock { state in
            defer { state.lastUsed.removeAll(keepingCapacity: true) }
            return state.lastUsed.map { ($0.key, $0.value) }
        }
    }

    /// Takes the pending outcome counts, per tenant.
    public func drainTallies() -> [String: [String: Int]] {
        state.withLock { state in
            defer { state.tallies.removeAll() }
            return state.tallies.mapValues { counts in Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) }) }
        }
    }

    /// The pending last-use time of a key (not yet flushed), if any.
    public func pendingLastUse(_ id: String) -> Int64? { state.withLock { $0.lastUsed[id] } }
}

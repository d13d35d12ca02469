import CofferCore
import Synchronization

/// A bounded in-process cache of stored records, so hot lookups (credentials by keyed hash, tenants)
/// skip the database. Every write that could change a cached record invalidates the whole cache *after*
/// it committed; a lookup only fills the cache if no invalidation happened while it read, so a record
/// read before a revocation can never be cached after it. On shared storage (PostgreSQL) other
/// instances' writes invalidate it through `LISTEN/NOTIFY`, and `maxAge` bounds how long an entry may
/// live if a notification is ever missed.
///
/// A cache made with `cachesMisses` also remembers that a key was not found, so a lookup of an unknown
/// credential costs what a lookup of a known one does (no timing tells whether a key exists); every
/// insert into such a store must invalidate it.
final class RecordCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry {
        var value: Value?
        var storedAt: ContinuousClock.Instant
    }

    /// Lookups of one key waiting for the load another lookup of it started, in one generation.
    struct Flight {
        let id: UInt64
        let generation: UInt64
        var waiters: [CheckedContinuation<Turn, Never>] = []
    }

    /// What a lookup that missed does: load (and share), take the shared result, or load alone.
    enum Turn: Sendable {
        case lead(id: UInt64, generation: UInt64)
        case shared(Value?)
        case alone
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var generation: UInt64 = 0
        var flights: [Key: Flight] = [:]
        /// Waiters of flights superseded by a newer generation's, by flight id, until their load lands.
        var superseded: [UInt64: [CheckedContinuation<Turn, Never>]] = [:]
        var nextFlight: UInt64 = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let cachesMisses: Bool
    /// How long an entry is trusted (nil: until invalidated).
    let maxAge: Duration?

    init(capacity: Int, cachesMisses: Bool = false, maxAge: Duration? = nil) {
        self.capacity = max(1, capacity)
        self.cachesMisses = cachesMisses
        self.maxAge = maxAge
    }

    /// The cached value, if any (a cached miss reads as `nil` here).
    func value(_ key: Key) -> Value? { entry(key) ?? nil }

    /// The cached entry: `.some(nil)` for a cached miss, `nil` when nothing (fresh) is cached.
    func entry(_ key: Key) -> Value?? {
        state.withLock { state -> Value?? in
            guard let entry = state.entries[key] else { return nil }
            if let maxAge, entry.storedAt.duration(to: .now) > maxAge { return nil }
            return .some(entry.value)
        }
    }

    /// The current generation, read before a database lookup.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Caches `value` unless an invalidation happened since `generation` was read. Evicts an arbitrary
    /// eighth of the entries when full (dictionary order is effectively random).
    func store(_ key: Key, _ value: Value?, ifGeneration generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= capacity {
                for victim in Array(state.entries.keys.prefix(max(1, capacity / 8))) { state.entries[victim] = nil }
            }
            state.entries[key] = Entry(value: value, storedAt: .now)
        }
    }

    /// Drops everything and makes in-flight lookups discard what they read.
    func invalidateAll() {
        state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }

    /// Number of cached entries.
    var count: Int { state.withLock { $0.entries.count } }

    /// Looks `key` up in the cache, else loads it and caches a found value (and a miss, if this cache
    /// caches misses). Concurrent lookups of one key that miss share one load (when a hot entry expires,
    /// sixty-four requests cost one query, not sixty-four), but only within one generation: a lookup that
    /// starts after an invalidation never takes a value read before it.
    func load(_ key: Key, _ loader: () async throws -> Value?) async rethrows -> Value? {
        if let hit = entry(key) { return hit }
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { state -> Turn? in
                if var flight = state.flights[key], flight.generation == state.generation {
                    flight.waiters.append(continuation)
                    state.flights[key] = flight
                    return nil
                }
                if let stale = state.flights[key], !stale.waiters.isEmpty { state.superseded[stale.id] = stale.waiters }
                state.nextFlight &+= 1
                state.flights[key] = Flight(id: state.nextFlight, generation: state.generation)
                return .lead(id: state.nextFlight, generation: state.generation)
            }
            if let lead { continuation.resume(returning: lead) }
        }
        switch turn {
        case .shared(let value): return value
        case .alone: return try await loader()
        case .lead(let id, let generation):
            do {
                let loaded = try await loader()
                if loaded != nil || cachesMisses { store(key, loaded, ifGeneration: generation) }
                land(key, id: id, .shared(loaded))
                return loaded
            } catch {
                land(key, id: id, .alone)  // the others load for themselves and see their own error
                throw error
            }
        }
    }

    /// Ends flight `id` of `key`, resuming its waiters with `turn`.
    private func land(_ key: Key, id: UInt64, _ turn: Turn) {
        let waiters = state.withLock { state -> [CheckedContinuation<Turn, Never>] in
            guard let flight = state.flights[key], flight.id == id else { return state.superseded.removeValue(forKey: id) ?? [] }
            state.flights[key] = nil
            return flight.waiters
        }
        for waiter in waiters { waiter.resume(returning: turn) }
    }
}

/// The place of a KV path, or of a gateway project's record: tenant, a namespace (mount or project), name.
struct PlaceKey: Hashable, Sendable {
    let tenantID: String
    let space: String
    let name: String
}

/// What a change notification names: the caches other instances must drop. An empty or unknown
/// payload drops every cache (fail safe: a notification this version cannot read is treated as "anything").
enum CacheKind: String, Sendable, CaseIterable {
    case tenants, tokens, apiKeys = "api_keys", kv, gateway, mounts, transit
    /// Wrapped responses: nothing cached, so nothing to drop.
    case wrapping
    /// Auth methods, users, roles, secret IDs: nothing cached, so nothing to drop.
    case identity

    /// The payload naming `kinds` (empty: everything).
    static func payload(_ kinds: [CacheKind]) -> String { kinds.map(\.rawValue).joined(separator: ",") }

    /// The kinds a payload names, or nil for "everything" (empty, or a name this version does not know).
    static func parse(_ payload: String?) -> Set<CacheKind>? {
        guard let payload, !payload.isEmpty else { return nil }
        var kinds: Set<CacheKind> = []
        for name in payload.split(separator: ",") {
            guard let kind = CacheKind(rawValue: String(name)) else { return nil }
            kinds.insert(kind)
        }
        return kinds
    }
}

/// The caches of one storage: on SQLite trusted until a local write invalidates them; on PostgreSQL
/// also invalidated by other instances' writes that name them (`LISTEN/NOTIFY`) and never older than `maxAge`.
struct StorageCaches: Sendable {
    let tenants: RecordCache<String, Tenant>
    let tokens: RecordCache<[UInt8], TokenRecord>
    let apiKeys: RecordCache<[UInt8], APIKeyRecord>
    /// KV metadata and versions (sealed blobs, never plaintext) by path, for the gateway's credential reads and KV reads.
    let kvMetadata: RecordCache<PlaceKey, SecretMetadata>
    let kvVersions: RecordCache<PlaceKey, [SecretVersion]>
    /// Gateway project documents by (tenant, "", name), and suspensions by (tenant, project, client), misses included.
    let gatewayProjects: RecordCache<PlaceKey, String>
    let gatewaySuspensions: RecordCache<PlaceKey, GatewaySuspensionRecord>
    /// Mounts by (tenant, "", path), misses included.
    let mounts: RecordCache<PlaceKey, Mount>

    init(apiKeyCapacity: Int, maxAge: Duration? = nil) {
        tenants = RecordCache(capacity: 10_000, maxAge: maxAge)
        tokens = RecordCache(capacity: 50_000, maxAge: maxAge)
        apiKeys = RecordCache(capacity: apiKeyCapacity, cachesMisses: true, maxAge: maxAge)
        kvMetadata = RecordCache(capacity: 10_000, maxAge: maxAge)
        kvVersions = RecordCache(capacity: 10_000, maxAge: maxAge)
        gatewayProjects = RecordCache(capacity: 10_000, maxAge: maxAge)
        gatewaySuspensions = RecordCache(capacity: 50_000, cachesMisses: true, maxAge: maxAge)
        mounts = RecordCache(capacity: 10_000, cachesMisses: true, maxAge: maxAge)
    }

    /// Drops the entries a change of `kinds` may have made stale (nil: every entry).
    func invalidate(_ kinds: Set<CacheKind>?) {
        guard let kinds else { return invalidateAll() }
        if kinds.contains(.tenants) { tenants.invalidateAll() }
        if kinds.contains(.tokens) { tokens.invalidateAll() }
        if kinds.contains(.apiKeys) { apiKeys.invalidateAll() }
        if kinds.contains(.kv) || kinds.contains(.mounts) {
            kvMetadata.invalidateAll()
            kvVersions.invalidateAll()
        }
        if kinds.contains(.gateway) {
            gatewayProjects.invalidateAll()
            gatewaySuspensions.invalidateAll()
        }
        if kinds.contains(.mounts) { mounts.invalidateAll() }
    }

    /// Drops every entry.
    func invalidateAll() {
        tenants.invalidateAll()
        tokens.invalidateAll()
        apiKeys.invalidateAll()
        kvMetadata.invalidateAll()
        kvVersions.invalidateAll()
        gatewayProjects.invalidateAll()
        gatewaySuspensions.invalidateAll()
        mounts.invalidateAll()
    }
}

/// A stored suspension (until, ms, and why).
struct GatewaySuspensionRecord: Sendable {
    let until: Int64
    let reason: String
}

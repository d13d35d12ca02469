/// A stored API key (never the key itself): identity, scopes, lifetime, revocation and rotation links, plus Coffer's limits.
public struct APIKeyRecord: Sendable, Hashable {
    /// Public id (`key_…`), shown and logged.
    public var id: String
    /// Owning tenant.
    public var tenantID: String
    /// HMAC-SHA256 of the key under the keyring's credential hashing key.
    public var hash: [UInt8]
    /// What may be shown of the key, e.g. `sk_live_AbC1…`.
    public var displayPrefix: String
    /// `live`, `test` or `admin`.
    public var kind: APIKeyFormat.Kind
    /// Human name.
    public var name: String
    /// Granted scopes (grammar of ``Scope``).
    public var scopes: [String] { didSet { grants = scopes.compactMap(Scope.init) } }
    /// ``scopes`` parsed once (verification checks them on every request).
    public private(set) var grants: [Scope]
    /// Creation time, ms.
    public var createdAt: Int64
    /// Expiry, ms; `nil` = never.
    public var expiresAt: Int64?
    /// Last successful use, ms (kept accurate within seconds, written in batches).
    public var lastUsedAt: Int64?
    /// Revocation time, ms.
    public var revokedAt: Int64?
    /// Why it was revoked.
    public var revokedReason: String?
    /// Who revoked it (accessor or key id).
    public var revokedBy: String?
    /// Allowed client networks (CIDR); empty = any.
    public var allowedCIDRs: [String]
    /// Short-term rate limit: requests per ``ratePeriodMillis`` (0 = tenant default).
    public var rateLimit: Int
    /// Rate-limit period, ms.
    public var ratePeriodMillis: Int64
    /// Long-term quota per ``quotaWindowMillis`` (0 = none).
    public var quotaLimit: Int
    /// Quota window, ms.
    public var quotaWindowMillis: Int64
    /// Free-form, non-secret metadata.
    public var metadata: [String: String]
    /// The key this one replaced by rotation.
    public var rotatedFrom: String?
    /// The key that replaced this one.
    public var rotatedTo: String?

    /// Creates a record.
    public init(
        id: String, tenantID: String, hash: [UInt8], displayPrefix: String, kind: APIKeyFormat.Kind, name: String, scopes: [String],
        createdAt: Int64, expiresAt: Int64? = nil, lastUsedAt: Int64? = nil, revokedAt: Int64? = nil, revokedReason: String? = nil,
        revokedBy: String? = nil, allowedCIDRs: [String] = [], rateLimit: Int = 0, ratePeriodMillis: Int64 = 60_000, quotaLimit: Int = 0,
        quotaWindowMillis: Int64 = 86_400_000, metadata: [String: String] = [:], rotatedFrom: String? = nil, rotatedTo: String? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.hash = hash
        self.displayPrefix = displayPrefix
        self.kind = kind
        self.name = name
        self.scopes = scopes
        self.grants = scopes.compactMap(Scope.init)
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.revokedReason = revokedReason
        self.revokedBy = revokedBy
        self.allowedCIDRs = allowedCIDRs
        self.rateLimit = rateLimit
        self.ratePeriodMillis = ratePeriodMillis
        self.quotaLimit = quotaLimit
        self.quotaWindowMillis = quotaWindowMillis
        self.metadata = metadata
        self.rotatedFrom = rotatedFrom
        self.rotatedTo = rotatedTo
    }
}

/// Persistence of API keys (as keyed hashes).
public protocol APIKeyStore: Sendable {
    /// Inserts a key.
    func insert(_ key: APIKeyRecord, in work: UnitOfWork) async throws
    /// Inserts many keys in one transaction (bulk issuance and benchmarks).
    func insertMany(_ keys: [APIKeyRecord]) async throws
    /// The key with this keyed hash (any tenant: the hash is the lookup).
    func key(hash: [UInt8]) async throws -> APIKeyRecord?
    /// A key by id within a tenant.
    func key(id: String, tenantID: String) async throws -> APIKeyRecord?
    /// A tenant's keys ordered by id, after `afterID`.
    func list(tenantID: String, afterID: String, limit: Int) async throws -> [APIKeyRecord]
    /// Replaces the mutable settings (name, scopes, limits, allow-list, metadata, expiry) of a key.
    func update(_ key: APIKeyRecord, in work: UnitOfWork) async throws -> Bool
    /// Revokes a key now; returns whether it was live.
    func revoke(id: String, tenantID: String, at time: Int64, reason: String, by actor: String, in work: UnitOfWork) async throws -> Bool
    /// Rotation in one transaction: inserts `replacement`, links both, and sets the old key's expiry to `oldExpiresAt`
    /// (never later than it already was). Returns `false` if the old key is missing, revoked or already rotated.
    func rotate(id: String, tenantID: String, replacement: APIKeyRecord, oldExpiresAt: Int64, in work: UnitOfWork) async throws -> Bool
    /// Records last use for many keys at once (later times only).
    func touch(_ uses: [(id: String, time: Int64)]) async throws
    /// A tenant's live keys (neither revoked nor expired at `now`) that expire before `expiringBefore`,
    /// were created before `createdBefore` and never rotated, or were last used (or created, if never
    /// used) before `unusedSince`; at most `limit`, oldest first.
    func needingAttention(
        tenantID: String, now: Int64, expiringBefore: Int64, createdBefore: Int64, unusedSince: Int64, limit: Int
    ) async throws
        -> [APIKeyRecord]
    /// How many keys there are, across tenants, by state and age at `now` (the keys-by-state metric).
    func census(now: Int64) async throws -> [APIKeyCensus]
}

/// A count of API keys in one state and age bucket, across tenants.
public struct APIKeyCensus: Sendable, Hashable {
    /// The state at the time of counting.
    public enum State: String, Sendable, CaseIterable {
        /// Neither revoked nor past its expiry.
        case active
        /// Past its expiry (rotation grace included).
        case expired
        /// Revoked.
        case revoked
    }

    /// Age since creation, in the buckets of 4Quays' rotation table (quarterly, yearly).
    public enum Age: String, Sendable, CaseIterable {
        /// Younger than 30 days.
        case under30Days = "lt_30d"
        /// 30 to 90 days.
        case under90Days = "30d_90d"
        /// 90 days to a year.
        case underYear = "90d_365d"
        /// A year or older.
        case overYear = "gt_365d"

        /// Upper bounds of the buckets, in days (the last is open).
        public static let boundsInDays: [Int64] = [30, 90, 365]
    }

    /// The state.
    public var state: State
    /// The age bucket.
    public var age: Age
    /// The number of keys.
    public var count: Int

    /// Creates a count.
    public init(state: State, age: Age, count: Int) {
        self.state = state
        self.age = age
        self.count = count
    }
}

/// Issues, lists, updates, revokes, rotates and verifies API keys. Keys are stored only as keyed
/// hashes; the key itself is returned once, at creation or rotation.
public struct APIKeyService: Sendable {
    /// Who is creating or changing keys: what they may hand out.
    public enum Grantor: Sendable {
        /// A token of this role (only admins manage keys; they may grant anything, admin keys included).
        case role(Role)
        /// An API key with these scopes: it can only grant scopes it holds itself, and admin keys only if it is one.
        case apiKey(scopes: [Scope], admin: Bool)

        var isAdmin: Bool {
            switch self {
            case .role(let role): role == .admin
            case .apiKey(_, let admin): admin
            }
        }

        /// Whether this grantor may manage `record`: an API key only manages keys whose every scope it
        /// holds itself (else rotating one would hand it a key stronger than itself), admins any key.
        func mayManage(_ record: APIKeyRecord) -> Bool {
            if record.kind == .admin && !isAdmin { return false }
            return record.grants.allSatisfy(mayGrant)
        }

        func mayGrant(_ scope: Scope) -> Bool {
            switch self {
            case .role(let role): role == .admin
            case .apiKey(let scopes, _): scopes.contains { $0.covers(scope) }
            }
        }
    }

    /// Settings of a key, as given at creation or in an update (absent fields keep their value on update).
    public struct Settings: Sendable {
        /// Human name.
        public var name: String?
        /// Scopes (grammar of ``Scope``).
        public var scopes: [String]?
        /// Expiry, ms; `.some(nil)` removes it.
        public var expiresAt: Int64??
        /// Allowed networks (CIDR).
        public var allowedCIDRs: [String]?
        /// Rate limit per period (0 = none).
        public var rateLimit: Int?
        /// Rate period, ms.
        public var ratePeriodMillis: Int64?
        /// Quota per window (0 = none).
        public var quotaLimit: Int?
        /// Quota window, ms.
        public var quotaWindowMillis: Int64?
        /// Non-secret metadata.
        public var metadata: [String: String]?

        /// Creates settings.
        public init(
            name: String? = nil, scopes: [String]? = nil, expiresAt: Int64?? = nil, allowedCIDRs: [String]? = nil, rateLimit: Int? = nil,
            ratePeriodMillis: Int64? = nil, quotaLimit: Int? = nil, quotaWindowMillis: Int64? = nil, metadata: [String: String]? = nil
        ) {
            self.name = name
            self.scopes = scopes
            self.expiresAt = expiresAt
            self.allowedCIDRs = allowedCIDRs
            self.rateLimit = rateLimit
            self.ratePeriodMillis = ratePeriodMillis
            self.quotaLimit = quotaLimit
            self.quotaWindowMillis = quotaWindowMillis
            self.metadata = metadata
        }
    }

    private let store: any APIKeyStore
    private let hasher: any CredentialHashing
    private let clock: any CofferClock
    /// Rate-limit and quota state.
    public let limiter: any RateLimiterBackend
    /// Last uses and outcome counts waiting to be flushed.
    public let usage: APIKeyUsage

    /// Creates the service.
    public init(
        store: any APIKeyStore, hasher: any CredentialHashing, clock: any CofferClock, limiter: any RateLimiterBackend,
        usage: APIKeyUsage = APIKeyUsage()
    ) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.limiter = limiter
        self.usage = usage
    }

    /// Issues a key in `tenant`. Returns the key (its only copy) and the stored record.
    /// A publishable key (`pk_`) works only for gateway calls from an allowed browser origin, and may
    /// hold only `proxy:call` scopes.
    public func create(
        tenant: Tenant, settings: Settings, admin: Bool, publishable: Bool = false, grantor: Grantor, in work: UnitOfWork
    ) async throws -> (key: String, record: APIKeyRecord) {
        if admin && !grantor.isAdmin { throw CofferError(.permissionDenied, "only admins can create admin keys") }
        if admin && publishable { throw CofferError(.invalidRequest, "a key is either admin or publishable, not both") }
        let now = clock.nowMillis
        let kind =
            publishable ? APIKeyFormat.Kind.publishable(for: tenant.environment) : APIKeyFormat.Kind.forTenant(tenant.environment, admin: admin)
        var record = APIKeyRecord(id: "", tenantID: tenant.id, hash: [], displayPrefix: "", kind: kind, name: "", scopes: [], createdAt: now)
        try apply(settings, to: &record, now: now, grantor: grantor, creating: true)
        let key = APIKeyFormat.generate(record.kind)
        record.id = Self.newID()
        record.hash = try hasher.credentialHasher().hash(key)
        record.displayPrefix = APIKeyFormat.displayPrefix(key)
        // Named before the write: the request's audit entry is appended inside the write's transaction.
        work.describe("keys.create", "api_key", record.id, ["kind": record.kind.rawValue])
        try await store.insert(record, in: work)
        return (key, record)
    }

    /// A tenant's keys (never the keys themselves), by id after `afterID`.
    public func list(tenantID: String, afterID: String = "", limit: Int = 100) async throws -> [APIKeyRecord] {
        try await store.list(tenantID: tenantID, afterID: afterID, limit: limit).map(withPendingUse)
    }

    /// One key of a tenant, or `NOT_FOUND`.
    public func get(id: String, tenantID: String) async throws -> APIKeyRecord {
        guard let record = try await store.key(id: id, tenantID: tenantID) else { throw CofferError(.notFound, "no such API key") }
        return withPendingUse(record)
    }

    /// Changes name, scopes, expiry, allow-list, limits or metadata of a live key.
    public func update(id: String, tenantID: String, settings: Settings, grantor: Grantor, in work: UnitOfWork) async throws -> APIKeyRecord {
        var record = try await get(id: id, tenantID: tenantID)
        guard record.revokedAt == nil else { throw CofferError(.invalidRequest, "a revoked key cannot be changed") }
        guard grantor.mayManage(record) else { throw CofferError(.permissionDenied, "you can only change keys whose scopes you hold") }
        try apply(settings, to: &record, now: clock.nowMillis, grantor: grantor, creating: false)
        guard try await store.update(record, in: work) else { throw CofferError(.notFound, "no such API key") }
        return record
    }

    /// Revokes a key now. Verification fails with `REVOKED` from this instant.
    public func revoke(
        id: String, tenantID: String, reason: String, by actor: String, grantor: Grantor, in work: UnitOfWork
    ) async throws -> APIKeyRecord {
        let record = try await get(id: id, tenantID: tenantID)
        guard grantor.mayManage(record) else { throw CofferError(.permissionDenied, "you can only revoke keys whose scopes you hold") }
        let reason = reason.isEmpty ? "unspecified" : reason
        guard Self.isPlainText(reason, max: 256) else { throw CofferError(.invalidRequest, "reason must be at most 256 printable characters") }
        guard try await store.revoke(id: id, tenantID: tenantID, at: clock.nowMillis, reason: reason, by: actor, in: work) else {
            throw CofferError(.invalidRequest, "the key is already revoked")
        }
        return try await get(id: id, tenantID: tenantID)
    }

    /// What a leak report did to one reported key.
    public enum LeakOutcome: String, Sendable {
        /// It was live and is now revoked.
        case revoked
        /// It was already revoked.
        case alreadyRevoked = "already_revoked"
        /// It had already expired (revoked anyway, so a later extension cannot revive it).
        case expired
        /// Not a Coffer key this server knows (or not well formed).
        case unknown
    }

    /// One reported key's outcome; `record` is the key as it is now, when it exists.
    public struct LeakReport: Sendable {
        /// The outcome.
        public var outcome: LeakOutcome
        /// The key's record (after revocation), if it exists.
        public var record: APIKeyRecord?
    }

    /// Revokes every reported key this server knows that is not revoked yet, with reason
    /// `leaked: <source>`. Whoever holds a key may report it (possession is the proof, as with GitHub's
    /// credential revocation API); each revocation goes through the unit of work `work(record)` makes
    /// for the key's own tenant. At most 100 keys; `source` at most 200 printable characters.
    public func revokeLeaked(
        _ presented: [String], source: String, by actor: String, work: (APIKeyRecord) throws -> UnitOfWork
    ) async throws -> [LeakReport] {
        guard (1...100).contains(presented.count) else { throw CofferError(.invalidRequest, "keys: give 1 to 100 keys") }
        guard !source.isEmpty, Self.isPlainText(source, max: 200) else {
            throw CofferError(.invalidRequest, "source must be 1-200 printable characters")
        }
        var reports: [LeakReport] = []
        for key in presented {
            guard let record = try await lookup(key) else {
                reports.append(LeakReport(outcome: .unknown, record: nil))
                continue
            }
            guard record.revokedAt == nil else {
                reports.append(LeakReport(outcome: .alreadyRevoked, record: record))
                continue
            }
            let now = clock.nowMillis
            let expired = record.expiresAt.map { $0 <= now } ?? false
            let revoked = try await store.revoke(
                id: record.id, tenantID: record.tenantID, at: now, reason: "leaked: \(source)", by: actor, in: try work(record))
            let current = try await store.key(id: record.id, tenantID: record.tenantID) ?? record
            reports.append(LeakReport(outcome: revoked ? (expired ? .expired : .revoked) : .alreadyRevoked, record: current))
        }
        return reports
    }

    /// Replaces a key by a new one with the same settings. The old key stays valid for `graceSeconds`
    /// (0 = it stops now), never longer than it already would; both records link to each other.
    public func rotate(
        id: String, tenantID: String, graceSeconds: Int64, grantor: Grantor, in work: UnitOfWork
    ) async throws -> (key: String, record: APIKeyRecord) {
        guard (0...30 * 86_400).contains(graceSeconds) else { throw CofferError(.invalidRequest, "grace must be between 0 and 30 days") }
        let old = try await get(id: id, tenantID: tenantID)
        guard grantor.mayManage(old) else { throw CofferError(.permissionDenied, "you can only rotate keys whose scopes you hold") }
        guard old.revokedAt == nil, old.rotatedTo == nil else { throw CofferError(.invalidRequest, "the key is revoked or was already rotated") }
        let now = clock.nowMillis
        if let expiry = old.expiresAt, expiry <= now { throw CofferError(.invalidRequest, "the key has expired") }
        let key = APIKeyFormat.generate(old.kind)
        var replacement = old
        replacement.id = Self.newID()
        replacement.hash = try hasher.credentialHasher().hash(key)
        replacement.displayPrefix = APIKeyFormat.displayPrefix(key)
        replacement.createdAt = now
        replacement.lastUsedAt = nil
        replacement.rotatedFrom = old.id
        replacement.rotatedTo = nil
        work.addDetails(["rotated_to": replacement.id, "grace_seconds": String(graceSeconds)])
        // The old key's grace never reaches past its own expiry.
        let graceEnd = min(now + graceSeconds * 1000, old.expiresAt ?? .max)
        guard try await store.rotate(id: id, tenantID: tenantID, replacement: replacement, oldExpiresAt: graceEnd, in: work) else {
            throw CofferError(.invalidRequest, "the key is revoked or was already rotated")
        }
        return (key, replacement)
    }

    /// The stored record for a presented key (any tenant), if the key is well formed and known.
    public func lookup(_ presented: String) async throws -> APIKeyRecord? {
        guard case .success = APIKeyFormat.check(presented) else { return nil }
        return try await storedRecord(wellFormed: presented)
    }

    /// A well-formed, known key that is revoked or expired now: its record and `revoked` or `expired`.
    public func deadKey(_ presented: String) async throws -> (record: APIKeyRecord, state: String)? {
        guard let record = try await lookup(presented) else { return nil }
        if record.revokedAt != nil { return (record, "revoked") }
        if let expiry = record.expiresAt, expiry <= clock.nowMillis { return (record, "expired") }
        return nil
    }

    /// The record for a key that already passed the format check (hash lookup, compared in constant time).
    func storedRecord(wellFormed presented: String) async throws -> APIKeyRecord? {
        let hash = try hasher.credentialHasher().hash(presented)
        guard let record = try await store.key(hash: hash), ConstantTime.equals(record.hash, hash) else { return nil }
        return record
    }

    /// A key presented to authenticate a request to Coffer itself, from `clientIP`: its record if it is
    /// well formed, known, live and allowed from that address; `nil` otherwise (no reason given to the caller).
    public func authenticate(_ presented: String, clientIP: String?) async throws -> APIKeyRecord? {
        guard let record = try await lookup(presented) else { return nil }
        let outcome = APIKeyVerifier.evaluate(record: record, tenantID: record.tenantID, now: clock.nowMillis, clientIP: clientIP, required: [])
        return outcome.code == .valid ? record : nil
    }

    /// Verifies a key for `tenantID`: the format (no lookup if malformed), the fixed checks, then the key's rate
    /// limit, then its quota. Limits are only consumed by a request that passed every other check, the quota only
    /// when the rate limit allowed.
    public func verify(
        _ presented: String, tenantID: String, clientIP: String?, required: [APIKeyVerifier.Requirement], cost: Int = 1
    ) async throws -> APIKeyVerifier.Outcome {
        guard case .success = APIKeyFormat.check(presented) else {
            usage.count(tenantID: tenantID, code: .malformed)
            return APIKeyVerifier.Outcome(code: .malformed)
        }
        let record = try await storedRecord(wellFormed: presented)
        let now = clock.nowMillis
        var outcome = APIKeyVerifier.evaluate(record: record, tenantID: tenantID, now: now, clientIP: clientIP, required: required)
        if outcome.code == .valid, let record {
            outcome = try await applyLimits(outcome, record: record, cost: cost, now: now)
            if outcome.code == .valid { usage.used(record.id, at: now) }
        }
        usage.count(tenantID: tenantID, code: outcome.code)
        return outcome
    }

    /// Consumes the key's own rate limit and quota (if it has them) for a request that passed every other check.
    public func applyLimits(_ outcome: APIKeyVerifier.Outcome, record: APIKeyRecord, cost: Int, now: Int64) async throws -> APIKeyVerifier.Outcome {
        var outcome = outcome
        if record.rateLimit > 0 {
            let decision = try await limiter.rate(
                bucket: "key:\(record.id)", limit: record.rateLimit, periodMillis: record.ratePeriodMillis, cost: cost, now: now)
            outcome.rateLimit = RateLimitStatus(limit: record.rateLimit, decision)
            if !decision.allowed {
                outcome.code = .rateLimited
                return outcome
            }
        }
        if record.quotaLimit > 0 {
            let decision = try await limiter.quota(
                bucket: "quota:\(record.id)", limit: record.quotaLimit, windowMillis: record.quotaWindowMillis, cost: cost, now: now)
            outcome.quota = APIKeyVerifier.QuotaStatus(
                limit: record.quotaLimit, remaining: decision.remaining, resetSeconds: RateLimitStatus.seconds(decision.resetMillis))
            if !decision.allowed { outcome.code = .quotaExceeded }
        }
        return outcome
    }

    /// Writes pending last-use times in one batch.
    public func flushLastUsed() async throws {
        let pending = usage.drainLastUsed()
        guard !pending.isEmpty else { return }
        do {
            try await store.touch(pending)
        } catch {
            for (id, time) in pending { usage.used(id, at: time) }
            throw error
        }
    }

    // MARK: - Validation

    func withPendingUse(_ record: APIKeyRecord) -> APIKeyRecord {
        guard let pending = usage.pendingLastUse(record.id), pending > (record.lastUsedAt ?? .min) else { return record }
        var updated = record
        updated.lastUsedAt = pending
        return updated
    }

    func apply(_ settings: Settings, to record: inout APIKeyRecord, now: Int64, grantor: Grantor, creating: Bool) throws(CofferError) {
        if let name = settings.name {
            guard !name.isEmpty, Self.isPlainText(name, max: 128) else {
                throw CofferError(.invalidRequest, "name must be 1-128 printable characters")
            }
            record.name = name
        } else if creating {
            throw CofferError(.invalidRequest, "name is required")
        }
        if let texts = settings.scopes {
            guard texts.count <= 64 else { throw CofferError(.invalidRequest, "at most 64 scopes") }
            var scopes: [Scope] = []
            // Errors name a scope by its position, never by its text: what a client sent is not echoed.
            for (index, text) in texts.enumerated() {
                guard let scope = Scope(text) else {
                    throw CofferError(
                        .invalidRequest, "scope \(index + 1) must look like resource:action[:pattern], e.g. kv:read:secret/payments/*")
                }
                if scope.isAdminOnly && record.kind != .admin {
                    throw CofferError(.invalidRequest, "scope \(index + 1) is for admin keys only")
                }
                if record.kind.isPublishable && !(scope.resource == "proxy" && scope.action == "call") {
                    throw CofferError(.invalidRequest, "scope \(index + 1): publishable keys hold only proxy:call scopes")
                }
                guard grantor.mayGrant(scope) else {
                    throw CofferError(.permissionDenied, "you cannot grant scope \(index + 1): you do not hold it")
                }
                scopes.append(scope)
            }
            record.scopes = Array(Set(scopes.map(\.description))).sorted()
        }
        if let expiry = settings.expiresAt {
            if let expiry, expiry <= now { throw CofferError(.invalidRequest, "expiry must be in the future") }
            record.expiresAt = expiry
        }
        if let cidrs = settings.allowedCIDRs {
            guard cidrs.count <= 64 else { throw CofferError(.invalidRequest, "at most 64 allowed networks") }
            var networks: [String] = []
            for text in cidrs {
                guard let network = CIDR(text) else {
                    throw CofferError(.invalidRequest, "allowed_ips must be IPv4 or IPv6 addresses or CIDR networks")
                }
                networks.append(network.description)
            }
            record.allowedCIDRs = networks
        }
        if let limit = settings.rateLimit { record.rateLimit = limit }
        if let period = settings.ratePeriodMillis { record.ratePeriodMillis = period }
        if let limit = settings.quotaLimit { record.quotaLimit = limit }
        if let window = settings.quotaWindowMillis { record.quotaWindowMillis = window }
        guard (0...1_000_000_000).contains(record.rateLimit), (1_000...86_400_000).contains(record.ratePeriodMillis) else {
            throw CofferError(.invalidRequest, "rate_limit.limit must be 0-1000000000 and rate_limit.period 1s-1d")
        }
        guard (0...1_000_000_000_000).contains(record.quotaLimit), (60_000...366 * 86_400_000).contains(record.quotaWindowMillis) else {
            throw CofferError(.invalidRequest, "quota.limit must be 0 or more and quota.period 1m-366d")
        }
        if let metadata = settings.metadata {
            guard metadata.count <= 32,
                metadata.allSatisfy({ Self.isPlainText($0.key, max: 64) && !$0.key.isEmpty && Self.isPlainText($0.value, max: 512) })
            else { throw CofferError(.invalidRequest, "metadata: at most 32 entries, keys up to 64 and values up to 512 printable characters") }
            record.metadata = metadata
        }
    }

    static func isPlainText(_ text: String, max: Int) -> Bool {
        text.count <= max && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }
    }

    /// A fresh public key id, `key_` and 128 random bits in base62.
    public static func newID() -> String { "key_" + Base62.encode(SecureRandom.bytes(16), minLength: 22) }
}

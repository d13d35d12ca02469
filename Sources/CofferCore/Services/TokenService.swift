/// Issues, authenticates and revokes access tokens.
public struct TokenService: Sendable {
    private let store: any TokenStore
    private let hasher: CredentialHasher
    private let clock: any CofferClock

    /// Creates the service.
    public init(store: any TokenStore, hasher: CredentialHasher, clock: any CofferClock) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
    }

    /// Mints a token. The returned string is the only copy; only its keyed hash is stored.
    /// `explicitMaxTTLSeconds` (Vault's `explicit_max_ttl`) caps the lifetime whatever `ttlSeconds` asks.
    public func create(
        tenantID: String, role: Role, displayName: String, ttlSeconds: Int64, explicitMaxTTLSeconds: Int64 = 0, renewable: Bool = false,
        parent: TokenRecord?, in work: UnitOfWork
    ) async throws -> (token: String, record: TokenRecord) {
        if let parent {
            guard parent.role.canGrant(role) else {
                throw CofferError(.permissionDenied, "a \(parent.role.rawValue) token cannot create a \(role.rawValue) token")
            }
        }
        guard ttlSeconds >= 0, ttlSeconds <= 10 * 365 * 86400 else {
            throw CofferError(.invalidRequest, "ttl must be between 0 and 10 years")
        }
        guard explicitMaxTTLSeconds >= 0, explicitMaxTTLSeconds <= 10 * 365 * 86400 else {
            throw CofferError(.invalidRequest, "explicit_max_ttl must be between 0 and 10 years")
        }
        let now = clock.nowMillis
        var expiresAt: Int64? = ttlSeconds > 0 ? now + ttlSeconds * 1000 : nil
        if explicitMaxTTLSeconds > 0 { expiresAt = min(expiresAt ?? .max, now + explicitMaxTTLSeconds * 1000) }
        if let parentExpiry = parent?.expiresAt {
            expiresAt = min(expiresAt ?? parentExpiry, parentExpiry)
        }
        let token = AccessToken.generate()
        // The TTL actually granted: the parent's expiry caps the child's, and the answer says so.
        let granted = expiresAt.map { max(0, ($0 - now) / 1000) } ?? 0
        let record = TokenRecord(
            accessor: AccessToken.generateAccessor(), tenantID: tenantID, hash: hasher.hash(token), role: role,
            displayName: displayName, createdAt: now, expiresAt: expiresAt, parentAccessor: parent?.accessor,
            ttlSeconds: granted, renewable: renewable && expiresAt != nil,
            maxExpiresAt: explicitMaxTTLSeconds > 0 ? now + explicitMaxTTLSeconds * 1000 : nil)
        // Named before the write: the request's audit entry is appended inside the write's transaction.
        work.addDetails(["created_accessor": record.accessor, "created_role": role.rawValue])
        try await store.insertToken(record, in: work)
        return (token, record)
    }

    /// Extends a live renewable token to `incrementSeconds` from now (0: its own TTL), never past its
    /// `explicit_max_ttl` or its parent's expiry. `INVALID_REQUEST` when it is not renewable; returns
    /// the record as renewed.
    public func renew(_ token: TokenRecord, incrementSeconds: Int64, in work: UnitOfWork) async throws -> TokenRecord {
        guard token.renewable, let current = token.expiresAt else {
            throw CofferError(.invalidRequest, "this token is not renewable (created with renewable false, or without a ttl)")
        }
        guard (0...10 * 365 * 86400).contains(incrementSeconds) else { throw CofferError(.invalidRequest, "increment must be 0 to 10 years") }
        let now = clock.nowMillis
        guard current > now, token.revokedAt == nil else { throw CofferError(.unauthenticated, "the token has expired or was revoked") }
        var expiresAt = now + (incrementSeconds > 0 ? incrementSeconds : token.ttlSeconds) * 1000
        if let cap = token.maxExpiresAt { expiresAt = min(expiresAt, cap) }
        if let parentAccessor = token.parentAccessor,
            let parent = try await store.token(accessor: parentAccessor, tenantID: token.tenantID), let parentExpiry = parent.expiresAt
        {
            expiresAt = min(expiresAt, parentExpiry)
        }
        // Renewal never shortens a token.
        expiresAt = max(expiresAt, current)
        work.addDetails(["renewed_accessor": token.accessor, "expires_at": Timestamp.rfc3339(expiresAt)])
        guard try await store.renewToken(accessor: token.accessor, tenantID: token.tenantID, from: current, to: expiresAt, in: work) else {
            throw CofferError(.invalidRequest, "the token changed while it was renewed; try again")
        }
        var renewed = token
        renewed.expiresAt = expiresAt
        return renewed
    }

    /// The usable token record for a presented token, or `UNAUTHENTICATED`.
    public func authenticate(_ token: String) async throws -> TokenRecord {
        guard AccessToken.looksValid(token) else {
            throw CofferError(.unauthenticated, "missing or invalid token")
        }
        let hash = hasher.hash(token)
        guard let record = try await store.token(hash: hash), ConstantTime.equals(record.hash, hash),
            record.isUsable(at: clock.nowMillis)
        else {
            throw CofferError(.unauthenticated, "missing or invalid token")
        }
        return record
    }

    /// Revokes a token by accessor within a tenant, and every token it created, transitively.
    /// Returns the accessors revoked by this call.
    @discardableResult
    public func revoke(accessor: String, tenantID: String, in work: UnitOfWork) async throws -> [String] {
        try await store.revokeToken(accessor: accessor, tenantID: tenantID, at: clock.nowMillis, in: work)
    }

    /// Looks a token up by accessor within a tenant.
    public func lookup(accessor: String, tenantID: String) async throws -> TokenRecord? {
        try await store.token(accessor: accessor, tenantID: tenantID)
    }
}

/// Issues, authenticates, renews and revokes access tokens, and keeps the tenant's token roles.
public struct TokenService: Sendable {
    private let store: any TokenStore
    private let hasher: any CredentialHashing
    private let clock: any CofferClock

    /// The longest TTL, period or explicit max TTL a token may be given: 10 years.
    public static let maximumSeconds: Int64 = 10 * 365 * 86400
    /// At most this many `meta` entries, each key and value at most 512 bytes.
    public static let maximumMetaEntries = 64

    /// Creates the service.
    public init(store: any TokenStore, hasher: any CredentialHashing, clock: any CofferClock) {
        self.store = store
        self.hasher = hasher
        self.clock = clock
    }

    /// Mints a token of `role` with a plain TTL (bootstrap and tenant creation).
    public func create(
        tenantID: String, role: Role, displayName: String, ttlSeconds: Int64, parent: TokenRecord?, in work: UnitOfWork
    ) async throws -> (token: String, record: TokenRecord) {
        var spec = TokenSpec(role: role)
        spec.displayName = displayName
        spec.ttlSeconds = ttlSeconds
        spec.renewable = false
        return try await create(tenantID: tenantID, spec: spec, parent: parent, in: work)
    }

    /// Mints a token as `spec` asks, within what `parent` holds: a child never outranks its parent, never
    /// holds a scope or network it lacks, and (unless an orphan) never outlives it. Orphans need an admin
    /// parent or a token role that makes them (`orphanByRole`). A use-limited token creates no tokens.
    /// The returned string is the only copy; only its keyed hash is stored.
    public func create(
        tenantID: String, spec: TokenSpec, parent: TokenRecord?, orphanByRole: Bool = false, in work: UnitOfWork
    ) async throws -> (token: String, record: TokenRecord) {
        var scopes = spec.scopes
        var cidrs = spec.boundCIDRs
        if let parent {
            guard parent.role.canGrant(spec.role) else {
                throw CofferError(.permissionDenied, "a \(parent.role.rawValue) token cannot create a \(spec.role.rawValue) token")
            }
            guard parent.usesLeft == 0 else { throw CofferError(.permissionDenied, "a use-limited token cannot create tokens") }
            if spec.orphan, parent.role != .admin, !orphanByRole {
                throw CofferError(.permissionDenied, "only admins (or a token role with orphan set) create orphan tokens")
            }
            if let held = parent.scopes {
                let asked = scopes ?? held
                guard asked.allSatisfy({ item in held.contains { $0.covers(item) } }) else {
                    throw CofferError(.permissionDenied, "a child token cannot hold scopes its parent lacks")
                }
                scopes = asked
            }
            if !parent.boundCIDRs.isEmpty {
                let held = parent.boundCIDRs.compactMap(CIDR.init)
                let asked = cidrs.isEmpty ? parent.boundCIDRs : cidrs
                guard asked.allSatisfy({ text in CIDR(text).map { item in held.contains { $0.covers(item) } } ?? false }) else {
                    throw CofferError(.permissionDenied, "a child token cannot be used from networks its parent cannot")
                }
                cidrs = asked
            }
        }
        for (name, value) in [("ttl", spec.ttlSeconds), ("explicit_max_ttl", spec.explicitMaxTTLSeconds), ("period", spec.periodSeconds)] {
            guard (0...Self.maximumSeconds).contains(value) else { throw CofferError(.invalidRequest, "\(name) must be between 0 and 10 years") }
        }
        guard spec.numUses >= 0, spec.numUses <= Int64(Int32.max) else { throw CofferError(.invalidRequest, "num_uses must be 0 or more") }
        guard spec.meta.count <= Self.maximumMetaEntries, spec.meta.allSatisfy({ $0.key.utf8.count <= 512 && $0.value.utf8.count <= 512 }) else {
            throw CofferError(.invalidRequest, "meta holds at most 64 entries of at most 512 bytes each")
        }
        guard cidrs.allSatisfy({ CIDR($0) != nil }) else { throw CofferError(.invalidRequest, "token_bound_cidrs must list CIDR networks") }
        let now = clock.nowMillis
        let lifetime = spec.periodSeconds > 0 ? spec.periodSeconds : spec.ttlSeconds
        var expiresAt: Int64? = lifetime > 0 ? now + lifetime * 1000 : nil
        if spec.explicitMaxTTLSeconds > 0 { expiresAt = min(expiresAt ?? .max, now + spec.explicitMaxTTLSeconds * 1000) }
        if !spec.orphan, let parentExpiry = parent?.expiresAt {
            expiresAt = min(expiresAt ?? parentExpiry, parentExpiry)
        }
        let token = AccessToken.generate()
        // The TTL actually granted: the parent's expiry caps the child's, and the answer says so.
        let granted = expiresAt.map { max(0, ($0 - now) / 1000) } ?? 0
        var record = TokenRecord(
            accessor: AccessToken.generateAccessor(), tenantID: tenantID, hash: try hasher.credentialHasher().hash(token), role: spec.role,
            displayName: spec.displayName, createdAt: now, expiresAt: expiresAt, parentAccessor: spec.orphan ? nil : parent?.accessor,
            ttlSeconds: spec.periodSeconds > 0 ? spec.periodSeconds : granted,
            renewable: (spec.renewable || spec.periodSeconds > 0) && expiresAt != nil,
            maxExpiresAt: spec.explicitMaxTTLSeconds > 0 ? now + spec.explicitMaxTTLSeconds * 1000 : nil)
        record.periodSeconds = spec.periodSeconds
        record.usesLeft = spec.numUses
        record.meta = spec.meta
        record.boundCIDRs = cidrs.compactMap { CIDR($0)?.description }
        record.scopes = scopes
        record.roleName = spec.roleName
        record.origin = spec.origin
        // Named before the write: the request's audit entry is appended inside the write's transaction.
        var details = ["created_accessor": record.accessor, "created_role": spec.role.rawValue]
        if spec.orphan { details["orphan"] = "true" }
        if let roleName = spec.roleName { details["token_role"] = roleName }
        work.addDetails(details)
        try await store.insertToken(record, in: work)
        return (token, record)
    }

    /// Extends a live renewable token: a periodic one to now + its period, any other to `incrementSeconds`
    /// from now (0: its own TTL); never past its `explicit_max_ttl` or (unless an orphan) its parent's
    /// expiry, never shorter than it was. `INVALID_REQUEST` when it is not renewable.
    public func renew(_ token: TokenRecord, incrementSeconds: Int64, in work: UnitOfWork) async throws -> TokenRecord {
        guard token.renewable, let current = token.expiresAt else {
            throw CofferError(.invalidRequest, "this token is not renewable (created with renewable false, or without a ttl)")
        }
        guard (0...Self.maximumSeconds).contains(incrementSeconds) else { throw CofferError(.invalidRequest, "increment must be 0 to 10 years") }
        let now = clock.nowMillis
        guard current > now, token.revokedAt == nil else { throw CofferError(.unauthenticated, "the token has expired or was revoked") }
        let extension_ = token.periodSeconds > 0 ? token.periodSeconds : (incrementSeconds > 0 ? incrementSeconds : token.ttlSeconds)
        var expiresAt = now + extension_ * 1000
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

    /// The usable token record for a presented token, or `UNAUTHENTICATED`: unknown, expired, revoked,
    /// used from outside its bound networks, or out of uses. A use-limited token spends one use here
    /// (atomically; the last use revokes it).
    public func authenticate(_ token: String, clientIP: String? = nil) async throws -> TokenRecord {
        guard var record = try await find(token), record.allowsClient(clientIP) else {
            throw CofferError(.unauthenticated, "missing or invalid token")
        }
        if record.usesLeft > 0 {
            guard let left = try await store.consumeTokenUse(accessor: record.accessor, tenantID: record.tenantID, at: clock.nowMillis) else {
                throw CofferError(.unauthenticated, "missing or invalid token")
            }
            record.usesLeft = left
        }
        return record
    }

    /// The live record of a presented token without spending a use (lookups of another token), or nil.
    public func find(_ token: String) async throws -> TokenRecord? {
        guard AccessToken.looksValid(token) else { return nil }
        let hash = try hasher.credentialHasher().hash(token)
        guard let record = try await store.token(hash: hash), ConstantTime.equals(record.hash, hash), record.isUsable(at: clock.nowMillis) else {
            return nil
        }
        return record
    }

    /// Revokes a token by accessor within a tenant, and every token it created, transitively
    /// (`orphanChildren`: only the token; its direct children become orphans). Returns the accessors revoked.
    @discardableResult
    public func revoke(accessor: String, tenantID: String, orphanChildren: Bool = false, in work: UnitOfWork) async throws -> [String] {
        let revoked: [String]
        if orphanChildren {
            revoked = try await store.revokeTokenOrphaningChildren(accessor: accessor, tenantID: tenantID, at: clock.nowMillis, in: work)
        } else {
            revoked = try await store.revokeToken(accessor: accessor, tenantID: tenantID, at: clock.nowMillis, in: work)
        }
        return revoked
    }

    /// Looks a token up by accessor within a tenant.
    public func lookup(accessor: String, tenantID: String) async throws -> TokenRecord? {
        try await store.token(accessor: accessor, tenantID: tenantID)
    }

    /// Creates or replaces a token role (admins only; checked by the caller).
    public func putRole(_ role: TokenRole, tenantID: String, in work: UnitOfWork) async throws {
        guard TokenRole.isValidName(role.name) else {
            throw CofferError(.invalidRequest, "a token role name is 1-128 letters, digits, '.', '_' or '-', not starting with '.'")
        }
        work.describe("token.role.write", "token_role", role.name)
        try await store.putTokenRole(tenantID: tenantID, name: role.name, document: role.document, in: work)
    }

    /// A token role, or `NOT_FOUND`.
    public func role(named name: String, tenantID: String) async throws -> TokenRole {
        guard TokenRole.isValidName(name), let document = try await store.tokenRole(tenantID: tenantID, name: name) else {
            throw CofferError(.notFound, "no token role with this name")
        }
        return try TokenRole(name: name, document: document)
    }

    /// The tenant's token role names, sorted.
    public func roleNames(tenantID: String) async throws -> [String] {
        try await store.tokenRoleNames(tenantID: tenantID)
    }

    /// Deletes a token role; `NOT_FOUND` if there was none. Tokens made from it keep working.
    public func deleteRole(named name: String, tenantID: String, in work: UnitOfWork) async throws {
        work.describe("token.role.delete", "token_role", name)
        guard TokenRole.isValidName(name), try await store.deleteTokenRole(tenantID: tenantID, name: name, in: work) else {
            throw CofferError(.notFound, "no token role with this name")
        }
    }
}

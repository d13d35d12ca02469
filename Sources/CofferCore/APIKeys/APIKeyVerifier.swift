/// The outcome codes of `POST /v1/keys/verify`.
public enum APIKeyVerifyCode: String, Sendable, Codable, CaseIterable {
    /// The key is good for this request.
    case valid = "VALID"
    /// No such key in the caller's tenant (also for other tenants' keys: no existence leak).
    case notFound = "NOT_FOUND"
    /// Not a well-formed key (bad prefix, shape or checksum): rejected without a lookup.
    case malformed = "MALFORMED"
    /// Past its expiry (including the end of a rotation grace period).
    case expired = "EXPIRED"
    /// Revoked.
    case revoked = "REVOKED"
    /// The client address is not in the key's allow-list.
    case forbiddenIP = "FORBIDDEN_IP"
    /// The key lacks a required scope.
    case insufficientScope = "INSUFFICIENT_SCOPE"
    /// Over the short-term rate limit.
    case rateLimited = "RATE_LIMITED"
    /// Over the long-term quota.
    case quotaExceeded = "QUOTA_EXCEEDED"
}

/// Decides a verification's fixed checks, as a pure function of the presented key, its stored record,
/// the time and the client address. Checks run in a fixed order; limits come afterwards (see
/// ``APIKeyService``), so they are only consumed by a request that passed every check here.
public enum APIKeyVerifier {
    /// A required permission: resource, action and target.
    public struct Requirement: Sendable, Hashable {
        /// Resource family.
        public var resource: String
        /// Action.
        public var action: String
        /// Target, if any.
        public var target: String?

        /// Creates a requirement.
        public init(resource: String, action: String, target: String? = nil) {
            self.resource = resource
            self.action = action
            self.target = target
        }

        /// Parses `resource:action[:target]` with the grammar of ``Scope`` (one grammar for grants and needs).
        public init?(_ text: String) {
            guard let scope = Scope(text) else { return nil }
            self.init(resource: scope.resource, action: scope.action, target: scope.pattern)
        }

        /// `resource:action[:target]`.
        public var description: String { [resource, action, target].compactMap { $0 }.joined(separator: ":") }
    }

    /// What the check found.
    public struct Outcome: Sendable {
        /// The code.
        public var code: APIKeyVerifyCode
        /// The key's record, when the key is known in the caller's tenant.
        public var record: APIKeyRecord?
        /// Rate-limit state, when the key has a rate limit and it was checked.
        public var rateLimit: RateLimitStatus?
        /// Quota state, when the key has a quota and it was checked.
        public var quota: QuotaStatus?

        /// Creates an outcome.
        public init(code: APIKeyVerifyCode, record: APIKeyRecord? = nil) {
            self.code = code
            self.record = record
        }
    }

    /// A quota's state as reported by verify.
    public struct QuotaStatus: Sendable, Hashable {
        /// Units per window.
        public var limit: Int
        /// Units left.
        public var remaining: Int
        /// Seconds until the window ends.
        public var resetSeconds: Int64
    }

    /// Evaluates the fixed checks of one verification of a *well-formed* key (``APIKeyFormat/check(_:)``
    /// passed; a malformed key is `MALFORMED` before any lookup): tenant, revocation, expiry, IP allow-list, scopes.
    /// - Parameters:
    ///   - record: the stored record found by the key's keyed hash, if any.
    ///   - tenantID: the caller's tenant; a key of another tenant is `NOT_FOUND`.
    ///   - clientIP: the address to check against the allow-list (`nil` when unknown: an allow-list then refuses).
    public static func evaluate(
        record: APIKeyRecord?, tenantID: String, now: Int64, clientIP: String?, required: [Requirement]
    ) -> Outcome {
        guard let record, record.tenantID == tenantID else { return Outcome(code: .notFound) }
        if record.revokedAt.map({ $0 <= now }) ?? false { return Outcome(code: .revoked, record: record) }
        if record.expiresAt.map({ $0 <= now }) ?? false { return Outcome(code: .expired, record: record) }
        if !record.allowedCIDRs.isEmpty {
            let networks = record.allowedCIDRs.compactMap(CIDR.init)
            guard let clientIP, networks.contains(where: { $0.contains(clientIP) }) else { return Outcome(code: .forbiddenIP, record: record) }
        }
        for need in required where !Scope.any(record.grants, allow: need.resource, need.action, target: need.target) {
            return Outcome(code: .insufficientScope, record: record)
        }
        return Outcome(code: .valid, record: record)
    }
}

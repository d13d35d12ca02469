/// Request limits on Coffer's own API, per minute, by kind of caller (defaults: 100 anonymous, 1,000 authenticated, 10,000 service).
/// 0 switches a tier off. An API key with its own `rate_limit` uses that instead of its tier.
public struct RateLimitTiers: Sendable, Hashable {
    /// Requests without a valid credential, per client address (failed authentications count).
    public var anonymousPerMinute: Int = 100
    /// Tokens and API keys that are not admins, per credential.
    public var authenticatedPerMinute: Int = 1_000
    /// Admin tokens and `sk_admin_` keys (service credentials), per credential.
    public var servicePerMinute: Int = 10_000
    /// All callers of one tenant together; 0 (the default) = no tenant-wide limit.
    public var tenantPerMinute: Int = 0

    /// The defaults.
    public init() {}

    /// Whether every value is usable.
    public var isValid: Bool {
        [anonymousPerMinute, authenticatedPerMinute, servicePerMinute, tenantPerMinute].allSatisfy { (0...1_000_000_000).contains($0) }
    }
}

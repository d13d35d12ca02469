import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// Builds a header name from a constant that is known to be a valid token.
    static func constant(_ name: StaticString) -> HTTPField.Name {
        guard let value = HTTPField.Name("\(name)") else { preconditionFailure("invalid header name constant \(name)") }
        return value
    }

    /// `X-Request-Id`.
    public static let requestID = constant("X-Request-Id")
    /// `X-Vault-Token`.
    public static let vaultToken = constant("X-Vault-Token")
    /// `X-Vault-Wrap-TTL` (response wrapping, refused until supported).
    public static let vaultWrapTTL = constant("X-Vault-Wrap-TTL")
    /// `X-Vault-Namespace`.
    public static let vaultNamespace = constant("X-Vault-Namespace")
    /// `X-Coffer-Tenant`.
    public static let cofferTenant = constant("X-Coffer-Tenant")
    /// `X-Content-Type-Options`.
    public static let contentTypeOptions = constant("X-Content-Type-Options")
    /// `X-Frame-Options`.
    public static let frameOptions = constant("X-Frame-Options")
    /// `Referrer-Policy`.
    public static let referrerPolicy = constant("Referrer-Policy")
    /// `RateLimit-Limit` (IETF draft RateLimit header fields).
    public static let rateLimitLimit = constant("RateLimit-Limit")
    /// `RateLimit-Remaining`.
    public static let rateLimitRemaining = constant("RateLimit-Remaining")
    /// `RateLimit-Reset`, seconds.
    public static let rateLimitReset = constant("RateLimit-Reset")
    /// `Content-Digest` (RFC 9530).
    public static let contentDigest = constant("Content-Digest")
    /// `Content-SHA256` (hex; the APIKeyChain seed's header).
    public static let contentSHA256 = constant("Content-SHA256")
    /// `Cross-Origin-Resource-Policy`.
    public static let crossOriginResourcePolicy = constant("Cross-Origin-Resource-Policy")
}

/// A response wrapped for later, single use (Vault's response wrapping): stored sealed under the
/// tenant's data key, found by the keyed hash of its wrapping token, deleted by the unwrap that reads it.
public struct WrappedResponse: Sendable, Hashable {
    /// Public id of the wrapping token (Vault's `wrap_info.accessor`).
    public var accessor: String
    /// Owning tenant.
    public var tenantID: String
    /// Keyed hash of the wrapping token.
    public var tokenHash: [UInt8]
    /// The request path whose answer was wrapped (`secret/data/app`, `auth/token/create`, `sys/wrapping/wrap`).
    public var creationPath: String
    /// Creation time, ms.
    public var createdAt: Int64
    /// Expiry, ms.
    public var expiresAt: Int64
    /// The answer, sealed (AAD: tenant, accessor, creation path).
    public var sealed: [UInt8]

    /// Creates one.
    public init(accessor: String, tenantID: String, tokenHash: [UInt8], creationPath: String, createdAt: Int64, expiresAt: Int64, sealed: [UInt8]) {
        self.accessor = accessor
        self.tenantID = tenantID
        self.tokenHash = tokenHash
        self.creationPath = creationPath
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.sealed = sealed
    }

    /// The TTL it was created with, seconds.
    public var ttlSeconds: Int64 { (expiresAt - createdAt) / 1000 }
}

/// Wrapping tokens: `cfw_` + 256 random bits in base62. They authenticate nothing but
/// `sys/wrapping/unwrap`, `lookup` and `rewrap`.
public enum WrappingToken {
    /// The prefix.
    public static let prefix = "cfw_"

    /// A fresh wrapping token.
    public static func generate() -> String { prefix + Base62.encode(SecureRandom.bytes(32), minLength: 43) }

    /// Whether `text` has the shape of a wrapping token.
    public static func looksValid(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.dropFirst(prefix.count)
        return (40...44).contains(body.count) && Base62.isValid(body)
    }
}

/// Persistence of wrapped responses.
public protocol WrappingStore: Sendable {
    /// Stores a wrapped response.
    func insertWrapped(_ wrapped: WrappedResponse, in work: UnitOfWork) async throws
    /// The live (unexpired at `now`) wrapped response with this token hash, without consuming it.
    func wrapped(tokenHash: [UInt8], now: Int64) async throws -> WrappedResponse?
    /// Atomically removes and returns the live wrapped response with this token hash (single use).
    func takeWrapped(tokenHash: [UInt8], now: Int64, in work: UnitOfWork) async throws -> WrappedResponse?
    /// Deletes wrapped responses expired at `now`; returns how many.
    func purgeExpiredWraps(now: Int64) async throws -> Int
}

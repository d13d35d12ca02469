import Crypto

/// Coffer's bearer tokens: `cft_` + 256 random bits in base62. Shown once, stored only as a keyed hash.
public enum AccessToken {
    /// The prefix every Coffer token starts with.
    public static let prefix = "cft_"

    /// A fresh token string.
    public static func generate() -> String {
        prefix + Base62.encode(SecureRandom.bytes(32), minLength: 43)
    }

    /// A fresh public accessor (an id that can be shown and logged).
    public static func generateAccessor() -> String {
        Base62.encode(SecureRandom.bytes(16), minLength: 22)
    }

    /// Whether `text` has the shape of a Coffer token (no lookup).
    public static func looksValid(_ text: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.dropFirst(prefix.count)
        return (40...44).contains(body.count) && Base62.isValid(body)
    }
}

/// Where the credential hasher comes from: the keyring (which refuses while sealed) or a fixed hasher.
public protocol CredentialHashing: Sendable {
    /// The hasher, or `SEALED`.
    func credentialHasher() throws(CofferError) -> CredentialHasher
}

extension CredentialHasher: CredentialHashing {
    /// Itself.
    public func credentialHasher() -> CredentialHasher { self }
}

extension Keyring: CredentialHashing {}

/// Keyed hashing of credentials for storage and lookup (HMAC-SHA256 under a keyring-held key).
public struct CredentialHasher: Sendable {
    /// An HMAC already keyed (inner and outer pads absorbed); each hash starts from a copy of it.
    private let keyed: HMAC<SHA256>

    /// Creates a hasher from the 32-byte hashing key.
    public init(keyBytes: [UInt8]) { keyed = HMAC<SHA256>(key: SymmetricKey(data: keyBytes)) }

    /// HMAC-SHA256 of the credential's UTF-8 bytes.
    public func hash(_ credential: String) -> [UInt8] {
        var mac = keyed
        mac.update(data: Array(credential.utf8))
        return Array(mac.finalize())
    }
}

/// A stored token (never the token itself).
public struct TokenRecord: Sendable, Hashable {
    /// Public id of the token.
    public var accessor: String
    /// Owning tenant.
    public var tenantID: String
    /// Keyed hash of the token.
    public var hash: [UInt8]
    /// Role.
    public var role: Role
    /// Human label.
    public var displayName: String
    /// Creation time, ms.
    public var createdAt: Int64
    /// Expiry, ms; `nil` = never.
    public var expiresAt: Int64?
    /// Revocation time, ms.
    public var revokedAt: Int64?
    /// The accessor of the token that created this one.
    public var parentAccessor: String?
    /// Requested TTL in seconds (0 = none).
    public var ttlSeconds: Int64
    /// Whether renewal may extend it.
    public var renewable: Bool
    /// The latest it may ever expire (Vault's `explicit_max_ttl`), if capped.
    public var maxExpiresAt: Int64?
    /// Vault's `period`: each renewal sets the expiry to now + period (0 = not periodic).
    public var periodSeconds: Int64 = 0
    /// Uses left before the token is spent (Vault's `num_uses`); 0 = unlimited.
    public var usesLeft: Int64 = 0
    /// Free metadata (Vault's `meta`), shown by lookups and audited; never a secret.
    public var meta: [String: String] = [:]
    /// Client networks (CIDR) the token may be used from; empty = any.
    public var boundCIDRs: [String] = []
    /// Scopes (the API-key grammar) that further limit the role; `nil` = the role alone decides.
    public var scopes: [Scope]?
    /// The token role it was created against, if any.
    public var roleName: String?
    /// The login that made it, for tokens from auth methods.
    public var origin: LoginOrigin?

    /// Creates a record.
    public init(
        accessor: String, tenantID: String, hash: [UInt8], role: Role, displayName: String, createdAt: Int64,
        expiresAt: Int64?, revokedAt: Int64? = nil, parentAccessor: String?, ttlSeconds: Int64, renewable: Bool = false,
        maxExpiresAt: Int64? = nil
    ) {
        self.renewable = renewable
        self.maxExpiresAt = maxExpiresAt
        self.accessor = accessor
        self.tenantID = tenantID
        self.hash = hash
        self.role = role
        self.displayName = displayName
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.parentAccessor = parentAccessor
        self.ttlSeconds = ttlSeconds
    }

    /// Whether the token authenticates at `now`.
    public func isUsable(at now: Int64) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    /// Whether the token may be used from `clientIP` (always, when it is not bound to networks).
    public func allowsClient(_ clientIP: String?) -> Bool {
        guard !boundCIDRs.isEmpty else { return true }
        guard let clientIP else { return false }
        return boundCIDRs.contains { CIDR($0)?.contains(clientIP) ?? false }
    }

    /// Whether the token was created without a parent (revoking another token never revokes it).
    public var isOrphan: Bool { parentAccessor == nil }
}

/// The deployment environment a tenant represents.
public enum TenantEnvironment: String, Sendable, Codable, CaseIterable {
    /// Development.
    case development
    /// Staging.
    case staging
    /// Production.
    case production
}

/// A tenant (organization): the isolation boundary for data keys, tokens and secrets.
public struct Tenant: Sendable, Hashable, Codable {
    /// Opaque stable id (random, base62).
    public var id: String
    /// Unique name, used as the Vault namespace.
    public var name: String
    /// The environment.
    public var environment: TenantEnvironment
    /// The data-key version new writes use.
    public var activeKeyVersion: Int
    /// Whether this is the system tenant created at initialisation (its admins manage tenants).
    public var isSystem: Bool
    /// Creation time, ms since epoch.
    public var createdAt: Int64

    /// Creates a tenant value.
    public init(id: String, name: String, environment: TenantEnvironment, activeKeyVersion: Int, isSystem: Bool, createdAt: Int64) {
        self.id = id
        self.name = name
        self.environment = environment
        self.activeKeyVersion = activeKeyVersion
        self.isSystem = isSystem
        self.createdAt = createdAt
    }

    /// Whether `name` is an acceptable tenant name: 1–64 of `a-z 0-9 - _`, starting with a letter or digit.
    public static func isValidName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.utf8.first else { return false }
        let allowed: (UInt8) -> Bool = { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 }
        return allowed(first) && first != 45 && first != 95 && name.utf8.allSatisfy(allowed)
    }
}

/// A data key as stored: wrapped by a root-key version.
public struct WrappedDataKey: Sendable, Hashable {
    /// Tenant id.
    public var tenantID: String
    /// Data-key version within the tenant.
    public var version: Int
    /// Root-key version that wraps it.
    public var rootVersion: Int
    /// The sealed key bytes.
    public var wrapped: [UInt8]
    /// Creation time, ms.
    public var createdAt: Int64

    /// Creates a record.
    public init(tenantID: String, version: Int, rootVersion: Int, wrapped: [UInt8], createdAt: Int64) {
        self.tenantID = tenantID
        self.version = version
        self.rootVersion = rootVersion
        self.wrapped = wrapped
        self.createdAt = createdAt
    }
}

/// The stored description of a root-key version: its check blob and, for passphrases, KDF parameters.
public struct RootKeyRecord: Sendable, Hashable {
    /// Root-key version.
    public var version: Int
    /// Blob proving possession of the right key.
    public var check: [UInt8]
    /// KDF parameters as JSON when the key comes from a passphrase.
    public var kdfJSON: String?
    /// Whether this version is the active one.
    public var active: Bool
    /// Creation time, ms.
    public var createdAt: Int64

    /// Creates a record.
    public init(version: Int, check: [UInt8], kdfJSON: String?, active: Bool, createdAt: Int64) {
        self.version = version
        self.check = check
        self.kdfJSON = kdfJSON
        self.active = active
        self.createdAt = createdAt
    }
}

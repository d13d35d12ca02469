/// A secrets engine mounted at a path of a tenant (Vault's `sys/mounts`): KV version 2 and transit
/// mounts at any free path, besides the built-in `secret/` (or `kv_mount`) and `transit/`.
public struct Mount: Sendable, Hashable {
    /// The engine type.
    public enum Kind: String, Sendable, Hashable {
        /// KV version 2.
        case kv
        /// Transit.
        case transit
    }

    /// Path without slashes (`secret`, `team-kv`).
    public var path: String
    /// Engine type.
    public var kind: Kind
    /// Free text.
    public var description: String
    /// KV settings (`<mount>/config`): defaults for every secret of the mount.
    public var kv: KVMountConfig
    /// Vault's `default_lease_ttl` / `max_lease_ttl` (seconds; reported, KV v2 and transit issue no leases).
    public var defaultLeaseTTL: Int64
    /// See ``defaultLeaseTTL``.
    public var maxLeaseTTL: Int64
    /// Public id (Vault's mount accessor).
    public var accessor: String
    /// Creation time, ms (0 for the built-in mounts never tuned).
    public var createdAt: Int64

    /// Creates a mount.
    public init(
        path: String, kind: Kind, description: String = "", kv: KVMountConfig = KVMountConfig(), defaultLeaseTTL: Int64 = 0,
        maxLeaseTTL: Int64 = 0, accessor: String, createdAt: Int64
    ) {
        self.path = path
        self.kind = kind
        self.description = description
        self.kv = kv
        self.defaultLeaseTTL = defaultLeaseTTL
        self.maxLeaseTTL = maxLeaseTTL
        self.accessor = accessor
        self.createdAt = createdAt
    }

    /// The path of the built-in transit mount.
    public static let transitPath = "transit"

    /// First path segments Coffer's own API uses, and Vault's reserved ones: never a mount.
    public static let reserved: Set<String> = [
        "sys", "auth", "identity", "cubbyhole", "audit", "keys", "gateway", "policies", "protect", "unprotect", "metrics", "tenants",
    ]

    /// Whether `path` can name a mount: one segment of 1–64 lowercase letters, digits, `-` or `_`
    /// (Coffer's choice: one segment keeps `/v1/<mount>/…` unambiguous), not reserved.
    public static func isValidPath(_ path: String) -> Bool {
        (1...64).contains(path.utf8.count) && !reserved.contains(path)
            && path.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
    }

    /// A mount path as clients send it (`team-kv/`, `/team-kv`), trimmed of slashes.
    public static func trim(_ raw: String) -> String {
        var path = Substring(raw)
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}

/// A KV v2 mount's settings (`GET/POST /v1/<mount>/config`).
public struct KVMountConfig: Sendable, Hashable {
    /// Versions kept per secret when its metadata says 0 (0 = the server default, 10).
    public var maxVersions: Int
    /// Whether every write to the mount must carry `cas`.
    public var casRequired: Bool
    /// Versions are soft-deleted this long after they were written (0 = never), unless a secret's own
    /// metadata sets a value.
    public var deleteVersionAfterSeconds: Int64

    /// Creates settings (Vault's defaults: all zero).
    public init(maxVersions: Int = 0, casRequired: Bool = false, deleteVersionAfterSeconds: Int64 = 0) {
        self.maxVersions = maxVersions
        self.casRequired = casRequired
        self.deleteVersionAfterSeconds = deleteVersionAfterSeconds
    }
}

/// Persistence of a tenant's mounts. The built-in mounts have a row only once tuned.
public protocol MountStore: Sendable {
    /// The tenant's stored mounts, by path.
    func mounts(tenantID: String) async throws -> [Mount]
    /// One stored mount.
    func mount(tenantID: String, path: String) async throws -> Mount?
    /// Inserts a mount; false if the path is taken.
    func insertMount(tenantID: String, _ mount: Mount, in work: UnitOfWork) async throws -> Bool
    /// Creates or replaces a mount's row (tuning, config).
    func saveMount(tenantID: String, _ mount: Mount, in work: UnitOfWork) async throws
    /// How many secrets (KV paths, or transit keys) a mount holds.
    func secretCount(tenantID: String, path: String) async throws -> Int
    /// Deletes a mount and every secret (KV paths, transit keys) stored under it, in one transaction.
    /// Returns how many were removed, or nil if there was no such mount row.
    func deleteMount(tenantID: String, path: String, in work: UnitOfWork) async throws -> Int?
}

/// Metadata of a KV v2 secret (per path), as Vault's `metadata/` endpoint describes it.
public struct SecretMetadata: Sendable, Hashable {
    /// Tenant id.
    public var tenantID: String
    /// Mount name (e.g. `secret`).
    public var mount: String
    /// Path within the mount, without leading or trailing slash.
    public var path: String
    /// Latest version number (0 if none written).
    public var currentVersion: Int
    /// Oldest version still kept.
    public var oldestVersion: Int
    /// Versions to keep; 0 means the mount default.
    public var maxVersions: Int
    /// Whether writes must carry `cas`.
    public var casRequired: Bool
    /// Seconds after which versions are deleted (0 = never); stored, reported.
    public var deleteVersionAfterSeconds: Int64
    /// Free-form, non-secret metadata.
    public var customMetadata: [String: String]
    /// Creation time, ms.
    public var createdAt: Int64
    /// Last update time, ms.
    public var updatedAt: Int64

    /// Creates metadata.
    public init(
        tenantID: String, mount: String, path: String, currentVersion: Int = 0, oldestVersion: Int = 0,
        maxVersions: Int = 0, casRequired: Bool = false, deleteVersionAfterSeconds: Int64 = 0,
        customMetadata: [String: String] = [:], createdAt: Int64, updatedAt: Int64
    ) {
        self.tenantID = tenantID
        self.mount = mount
        self.path = path
        self.currentVersion = currentVersion
        self.oldestVersion = oldestVersion
        self.maxVersions = maxVersions
        self.casRequired = casRequired
        self.deleteVersionAfterSeconds = deleteVersionAfterSeconds
        self.customMetadata = customMetadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One stored version of a secret.
public struct SecretVersion: Sendable, Hashable {
    /// Version number, from 1.
    public var version: Int
    /// Creation time, ms.
    public var createdAt: Int64
    /// Soft-deletion time, ms.
    public var deletedAt: Int64?
    /// Whether the value was destroyed (blob erased).
    public var destroyed: Bool
    /// The sealed value; `nil` once destroyed.
    public var blob: [UInt8]?
    /// Data-key version the blob is sealed with (for re-encryption audits).
    public var keyVersion: Int
    /// Field name → environment variable name, for fields that are `$ENV` references.
    public var references: [String: String]

    /// Creates a version.
    public init(
        version: Int, createdAt: Int64, deletedAt: Int64? = nil, destroyed: Bool = false, blob: [UInt8]?,
        keyVersion: Int, references: [String: String] = [:]
    ) {
        self.version = version
        self.createdAt = createdAt
        self.deletedAt = deletedAt
        self.destroyed = destroyed
        self.blob = blob
        self.keyVersion = keyVersion
        self.references = references
    }
}

/// A KV version whose `delete_version_after` is due.
public struct DueVersion: Sendable, Hashable, CustomStringConvertible {
    /// Mount.
    public var mount: String
    /// Path.
    public var path: String
    /// Version number.
    public var version: Int
    /// When it became due, ms (recorded as its deletion time).
    public var dueAt: Int64

    /// Creates one.
    public init(mount: String, path: String, version: Int, dueAt: Int64) {
        self.mount = mount
        self.path = path
        self.version = version
        self.dueAt = dueAt
    }

    /// `mount/path@version`.
    public var description: String { "\(mount)/\(path)@\(version)" }
}

/// The changes a metadata write applies (`nil` = leave as is).
public struct SecretMetadataUpdate: Sendable, Hashable {
    /// New max versions.
    public var maxVersions: Int?
    /// New CAS requirement.
    public var casRequired: Bool?
    /// New delete-version-after, seconds.
    public var deleteVersionAfterSeconds: Int64?
    /// Replacement custom metadata.
    public var customMetadata: [String: String]?

    /// Creates an update.
    public init(maxVersions: Int? = nil, casRequired: Bool? = nil, deleteVersionAfterSeconds: Int64? = nil, customMetadata: [String: String]? = nil) {
        self.maxVersions = maxVersions
        self.casRequired = casRequired
        self.deleteVersionAfterSeconds = deleteVersionAfterSeconds
        self.customMetadata = customMetadata
    }
}

/// What a KV write asks the store to persist; the store assigns the version and calls `seal`.
public struct SecretWrite: Sendable {
    /// Data-key version `seal` will use.
    public var keyVersion: Int
    /// Reference fields of this value.
    public var references: [String: String]
    /// The service's admission rule, run on the locked metadata before anything is written (check-and-set).
    public var admit: @Sendable (SecretMetadata) throws(CofferError) -> Void
    /// Encrypts the value for the version number the store assigns.
    public var seal: @Sendable (Int) throws(CofferError) -> [UInt8]
    /// The service's retention rule: given the metadata and the new version, the oldest version to keep.
    public var oldestKept: @Sendable (SecretMetadata, Int) -> Int

    /// Creates a write with explicit rules.
    public init(
        keyVersion: Int, references: [String: String], admit: @escaping @Sendable (SecretMetadata) throws(CofferError) -> Void,
        oldestKept: @escaping @Sendable (SecretMetadata, Int) -> Int, seal: @escaping @Sendable (Int) throws(CofferError) -> [UInt8]
    ) {
        self.keyVersion = keyVersion
        self.references = references
        self.admit = admit
        self.oldestKept = oldestKept
        self.seal = seal
    }

    /// A KV v2 write: Vault's check-and-set and max-versions rules (``KVRules``).
    public init(
        cas: Int?, defaultMaxVersions: Int, casRequired: Bool = false, keyVersion: Int, references: [String: String],
        seal: @escaping @Sendable (Int) throws(CofferError) -> [UInt8]
    ) {
        self.init(
            keyVersion: keyVersion, references: references,
            admit: { metadata throws(CofferError) in try KVRules.checkAndSet(cas, metadata, mountRequiresCAS: casRequired) },
            oldestKept: { metadata, version in KVRules.oldestKept(version: version, metadata: metadata, defaultMaxVersions: defaultMaxVersions) },
            seal: seal)
    }
}

/// KV v2's rules, as Vault has them; pure functions the store runs inside its transaction.
public enum KVRules {
    /// Check-and-set: `CAS_REQUIRED` when the metadata demands a `cas` and none was given;
    /// `CAS_MISMATCH` when `cas` is not the current version (0 = the secret must not exist yet).
    public static func checkAndSet(_ cas: Int?, _ metadata: SecretMetadata, mountRequiresCAS: Bool = false) throws(CofferError) {
        if (metadata.casRequired || mountRequiresCAS) && cas == nil {
            throw CofferError(.casRequired, "check-and-set parameter required for this call")
        }
        if let cas, cas != metadata.currentVersion {
            throw CofferError(.casMismatch, "check-and-set parameter did not match the current version")
        }
    }

    /// When `version` is due for deletion under `delete_version_after` (the secret's own setting, else
    /// the mount's), if either is set.
    public static func deletionDue(_ version: SecretVersion, metadata: SecretMetadata, mount: KVMountConfig) -> Int64? {
        let seconds = metadata.deleteVersionAfterSeconds > 0 ? metadata.deleteVersionAfterSeconds : mount.deleteVersionAfterSeconds
        guard seconds > 0, !version.destroyed else { return nil }
        let (millis, tooLong) = seconds.multipliedReportingOverflow(by: 1000)
        let (due, tooLate) = version.createdAt.addingReportingOverflow(millis)
        // A value no client could have set (the parser caps durations at 100 years) never wraps into the past.
        return tooLong || tooLate ? nil : due
    }

    /// `version` as a reader sees it at `now`: deleted once its `delete_version_after` is due, even if
    /// the background job has not recorded it yet.
    public static func asSeen(_ version: SecretVersion, metadata: SecretMetadata, mount: KVMountConfig, now: Int64) -> SecretVersion {
        guard version.deletedAt == nil, let due = deletionDue(version, metadata: metadata, mount: mount), due <= now else { return version }
        var seen = version
        seen.deletedAt = due
        return seen
    }

    /// The oldest version kept after writing `version`: the metadata's `max_versions`, else the default.
    public static func oldestKept(version: Int, metadata: SecretMetadata, defaultMaxVersions: Int) -> Int {
        let keep = metadata.maxVersions > 0 ? metadata.maxVersions : defaultMaxVersions
        return max(1, version - keep + 1)
    }
}

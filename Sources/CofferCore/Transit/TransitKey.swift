/// A named, versioned transit key with Vault's configuration and Coffer's lifecycle (a key
/// transition): versions below the latest are *deprecated* (decrypt and verify only); a version is
/// *retired* (nothing) once its retirement time passes — the overlap after the rotation that replaced
/// it — or when it falls below `minDecryptionVersion`. The whole key can expire.
public struct TransitKey: Sendable, Codable, Hashable {
    /// One version's material.
    public struct Version: Sendable, Codable, Hashable {
        /// Version number, from 1.
        public var version: Int
        /// Private material (a seed for post-quantum types). Only ever stored sealed.
        public var material: [UInt8]
        /// Creation time, ms.
        public var createdAt: Int64
        /// When this version retires, ms (set at the rotation that replaces it, from the overlap period).
        public var retiresAt: Int64?
    }

    /// Name (unique per tenant).
    public var name: String
    /// Algorithm.
    public var type: TransitKeyType
    /// Versions held (trimmed ones are gone).
    public var versions: [Version]
    /// Oldest version that may decrypt or verify.
    public var minDecryptionVersion: Int = 1
    /// Oldest version that may encrypt or sign (0 = latest only, as in Vault).
    public var minEncryptionVersion: Int = 0
    /// Whether the key may be deleted.
    public var deletionAllowed: Bool = false
    /// Whether the material may be exported (always refused by this build; kept for Vault's config shape).
    public var exportable: Bool = false
    /// Automatic rotation period, seconds (0 = off).
    public var autoRotatePeriodSeconds: Int64 = 0
    /// Whether encryption keys are derived per `context` (HKDF-SHA256).
    public var derived: Bool = false
    /// After a rotation, how long the replaced version keeps decrypting and verifying, seconds (0 = until retired by config).
    public var overlapSeconds: Int64 = 0
    /// When the whole key expires, ms: after it, nothing works.
    public var expiresAt: Int64?
    /// Creation time, ms.
    public var createdAt: Int64

    /// Creates a key with its first version.
    public init(name: String, type: TransitKeyType, material: [UInt8], createdAt: Int64) {
        self.name = name
        self.type = type
        self.versions = [Version(version: 1, material: material, createdAt: createdAt)]
        self.createdAt = createdAt
    }

    /// The newest version number.
    public var latestVersion: Int { versions.map(\.version).max() ?? 0 }

    /// A held version.
    public func version(_ number: Int) -> Version? { versions.first { $0.version == number } }

    /// `NOT_FOUND` naming the key (a valid name is an identifier, never a secret).
    public static func notFound(_ name: String) -> CofferError {
        CofferError(.notFound, isValidStoredName(name) ? "no transit key named '\(name)'" : "no transit key of this name")
    }

    /// Whether `name` is a stored key name: a key of the built-in `transit/` mount (a valid name), or
    /// `<mount>/<name>` for a key of another transit mount (the mount path is part of its AAD and of the
    /// scope target, so a key cannot move between mounts).
    public static func isValidStoredName(_ name: String) -> Bool {
        guard let slash = name.firstIndex(of: "/") else { return isValidName(name) }
        let mount = String(name[..<slash])
        return mount != Mount.transitPath && Mount.isValidPath(mount) && isValidName(String(name[name.index(after: slash)...]))
    }

    /// The stored name of key `name` of the transit mount at `mount`.
    public static func storedName(mount: String, name: String) -> String {
        mount == Mount.transitPath ? name : mount + "/" + name
    }

    /// The key's name within its mount (the stored name without the mount).
    public var shortName: String { name.split(separator: "/", maxSplits: 1).last.map(String.init) ?? name }

    /// Whether `name` is a valid key name (letters, digits, `-`, `_`, `.`; 1–128 bytes).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.utf8.allSatisfy {
                (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 || $0 == 46
            }
    }

    /// The version to encrypt or sign with (`requested` or the latest), or the refusal.
    public func versionForWriting(_ requested: Int?, now: Int64) throws(CofferError) -> Version {
        try checkNotExpired(now: now)
        let number = requested ?? latestVersion
        guard let version = version(number) else { throw CofferError(.invalidRequest, "key version \(number) does not exist") }
        if number < latestVersion {
            guard minEncryptionVersion > 0, number >= minEncryptionVersion else {
                throw CofferError(.keyDisabled, "key version \(number) is deprecated: it only decrypts and verifies")
            }
        }
        try checkNotRetired(version, now: now)
        return version
    }

    /// The version to decrypt or verify with, or the refusal.
    public func versionForReading(_ number: Int, now: Int64) throws(CofferError) -> Version {
        try checkNotExpired(now: now)
        guard let version = version(number) else {
            if number < minDecryptionVersion || (number >= 1 && number <= latestVersion) {
                throw CofferError(.keyDisabled, "key version \(number) is retired")
            }
            throw CofferError(.invalidRequest, "key version \(number) does not exist")
        }
        try checkNotRetired(version, now: now)
        return version
    }

    /// Refuses with `KEY_EXPIRED` once the key expired.
    public func checkNotExpired(now: Int64) throws(CofferError) {
        if let expiresAt, expiresAt <= now { throw CofferError(.keyExpired, "the key expired at \(Timestamp.rfc3339(expiresAt))") }
    }

    func checkNotRetired(_ version: Version, now: Int64) throws(CofferError) {
        if version.version < minDecryptionVersion || (version.retiresAt.map { $0 <= now } ?? false) {
            throw CofferError(.keyDisabled, "key version \(version.version) is retired")
        }
    }

    /// The lifecycle state of a version at `now`: `active`, `deprecated` or `retired`.
    public func state(of version: Version, now: Int64) -> String {
        if version.version < minDecryptionVersion || (version.retiresAt.map { $0 <= now } ?? false) { return "retired" }
        return version.version == latestVersion ? "active" : "deprecated"
    }

    /// Adds a new latest version; the replaced ones retire after the overlap (if one is set).
    public mutating func rotate(material: [UInt8], now: Int64) {
        if overlapSeconds > 0 {
            for index in versions.indices where versions[index].retiresAt == nil {
                versions[index].retiresAt = now + overlapSeconds * 1000
            }
        }
        versions.append(Version(version: latestVersion + 1, material: material, createdAt: now))
    }
}

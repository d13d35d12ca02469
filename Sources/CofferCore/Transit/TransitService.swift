import Foundation
import Synchronization

/// Encryption as a service over named transit keys (Vault's transit engine plus post-quantum types and a
/// key lifecycle). Key material is sealed under the tenant's data key, one blob per key; decoded keys
/// are cached and the cache is emptied by every local change, and on shared storage also by every
/// other instance's (``forgetKeys()``, called on change notifications) and after `maxAge`.
public final class TransitService: Sendable {
    private let store: any TransitStore
    private let keyring: Keyring
    private let clock: any CofferClock
    /// Decoded keys and when they were cached. A load only fills the cache if no change happened while
    /// it read (generation check), so a key read before a rotation is never cached after it.
    private let cache: Mutex<(entries: [String: (key: TransitKey, at: ContinuousClock.Instant)], generation: UInt64)>?
    /// How long a cached key is trusted (nil: until a change empties the cache).
    private let maxAge: Duration?
    private let refusals = Mutex<[String: [String: Int]]>([:])

    /// Creates the service. On storage other instances write to, pass the bound on a cached key's age
    /// and call ``forgetKeys()`` whenever another instance may have changed a key.
    public init(store: any TransitStore, keyring: Keyring, clock: any CofferClock, cacheKeys: Bool, maxAge: Duration? = nil) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
        self.cache = cacheKeys ? Mutex(([:], 0)) : nil
        self.maxAge = maxAge
    }

    // MARK: - Key management

    /// Options of a new key.
    public struct KeyOptions: Sendable {
        /// Per-context derived encryption keys.
        public var derived = false
        /// Exportable (refused: this build never exports key material).
        public var exportable = false
        /// Whether the key may be deleted later.
        public var deletionAllowed = false
        /// Automatic rotation period, seconds.
        public var autoRotatePeriodSeconds: Int64 = 0
        /// Overlap after rotation, seconds.
        public var overlapSeconds: Int64 = 0
        /// Expiry, ms.
        public var expiresAt: Int64?

        /// Defaults.
        public init() {}
    }

    /// Creates a key (version 1). As in Vault, creating an existing key of the same type is a no-op that
    /// returns it; a different type is `INVALID_REQUEST`.
    public func create(
        tenant: Tenant, name: String, type: TransitKeyType, options: KeyOptions = KeyOptions(), in work: UnitOfWork
    ) async throws -> TransitKey {
        guard TransitKey.isValidStoredName(name) else { throw CofferError(.invalidRequest, "key names are 1-128 of A-Z a-z 0-9 - _ .") }
        guard !options.exportable else { throw CofferError(.invalidRequest, "exportable keys are not supported: key material never leaves Coffer") }
        guard !options.derived || type == .aes256GCM96 || type == .chacha20Poly1305 else {
            throw CofferError(.invalidRequest, "only aes256-gcm96 and chacha20-poly1305 keys can be derived")
        }
        let now = clock.nowMillis
        var key = TransitKey(name: name, type: type, material: try type.generateMaterial(), createdAt: now)
        key.derived = options.derived
        key.deletionAllowed = options.deletionAllowed
        key.autoRotatePeriodSeconds = options.autoRotatePeriodSeconds
        key.overlapSeconds = options.overlapSeconds
        key.expiresAt = options.expiresAt
        work.addDetails(["algorithm": type.rawValue])
        guard try await store.createKey(tenantID: tenant.id, name: name, sealed: try await seal(key, tenant: tenant), at: now, in: work) else {
            let existing = try await self.key(tenant: tenant, name: name)
            guard existing.type == type else { throw CofferError(.invalidRequest, "a key named \(name) already exists with another type") }
            return existing
        }
        return key
    }

    /// A key, rotated first if its automatic rotation is due. `NOT_FOUND` if absent.
    public func key(tenant: Tenant, name: String) async throws -> TransitKey {
        let cacheKey = tenant.id + "/" + name
        var key: TransitKey
        let maxAge = self.maxAge
        if let cached = cache?.withLock({ cache -> TransitKey? in
            guard let entry = cache.entries[cacheKey] else { return nil }
            if let maxAge, entry.at.duration(to: .now) > maxAge { return nil }
            return entry.key
        }) {
            key = cached
        } else {
            let generation = cache?.withLock { $0.generation }
            guard TransitKey.isValidStoredName(name), let sealed = try await store.sealedKey(tenantID: tenant.id, name: name) else {
                throw TransitKey.notFound(name)
            }
            key = try await open(sealed, tenantID: tenant.id, name: name)
            let opened = key
            cache?.withLock { cache in
                guard cache.generation == generation else { return }
                if cache.entries.count >= 10_000 { cache.entries.removeAll() }
                cache.entries[cacheKey] = (opened, .now)
            }
        }
        let now = clock.nowMillis
        if key.autoRotatePeriodSeconds > 0, let latest = key.version(key.latestVersion), latest.createdAt + key.autoRotatePeriodSeconds * 1000 <= now
        {
            // Automatic rotation is the system's own act, not the caller's: it is not written to the caller's entry.
            key = try await update(tenant: tenant, name: name, in: .unaudited()) { key in
                guard let latest = key.version(key.latestVersion), latest.createdAt + key.autoRotatePeriodSeconds * 1000 <= now else { return }
                key.rotate(material: try key.type.generateMaterial(), now: now)
            }
        }
        return key
    }

    /// Rotates every key of the tenant whose `auto_rotate_period` has passed (the scheduler's sweep, so a
    /// key nobody uses still rotates on time); returns the names rotated.
    public func rotateDue(tenant: Tenant) async throws -> [String] {
        var rotated: [String] = []
        for name in try await store.keyNames(tenantID: tenant.id) {
            guard let sealed = try await store.sealedKey(tenantID: tenant.id, name: name) else { continue }
            let before = try await open(sealed, tenantID: tenant.id, name: name)
            guard before.autoRotatePeriodSeconds > 0, let latest = before.version(before.latestVersion),
                latest.createdAt + before.autoRotatePeriodSeconds * 1000 <= clock.nowMillis
            else { continue }
            _ = try await key(tenant: tenant, name: name)
            rotated.append(name)
        }
        return rotated
    }

    /// A tenant's key names in the transit mount at `mount` (names within the mount).
    public func names(tenant: Tenant, mount: String = Mount.transitPath) async throws -> [String] {
        let all = try await store.keyNames(tenantID: tenant.id)
        guard mount != Mount.transitPath else { return all.filter { !$0.contains("/") } }
        let prefix = mount + "/"
        return all.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    /// Changes a key in one transaction; returns it as stored.
    @discardableResult
    public func update(
        tenant: Tenant, name: String, in work: UnitOfWork, _ change: @escaping @Sendable (inout TransitKey) throws -> Void
    ) async throws -> TransitKey {
        let box = Mutex<TransitKey?>(nil)
        let tenantID = tenant.id
        defer { invalidate() }
        let found = try await store.updateKey(tenantID: tenant.id, name: name, at: clock.nowMillis, in: work) { [self] sealed in
            var key = try await open(sealed, tenantID: tenantID, name: name)
            try change(&key)
            box.withLock { $0 = key }
            return try await seal(key, tenant: tenant)
        }
        guard found, let key = box.withLock({ $0 }) else { throw TransitKey.notFound(name) }
        return key
    }

    /// A change of a key's configuration (Vault's `transit/keys/:name/config`); `nil` leaves a setting as it is.
    public struct ConfigChange: Sendable {
        /// Oldest version that may decrypt (1…latest).
        public var minDecryptionVersion: Int?
        /// Oldest version that may encrypt (0 = latest, else min_decryption…latest).
        public var minEncryptionVersion: Int?
        /// Whether the key may be deleted.
        public var deletionAllowed: Bool?
        /// Automatic rotation period, seconds (0 = off).
        public var autoRotatePeriodSeconds: Int64?
        /// Overlap after rotation, seconds.
        public var overlapSeconds: Int64?
        /// New expiry (`.some(nil)` removes it).
        public var expiresAt: Int64??

        /// Creates a change.
        public init(
            minDecryptionVersion: Int? = nil, minEncryptionVersion: Int? = nil, deletionAllowed: Bool? = nil, autoRotatePeriodSeconds: Int64? = nil,
            overlapSeconds: Int64? = nil, expiresAt: Int64?? = nil
        ) {
            self.minDecryptionVersion = minDecryptionVersion
            self.minEncryptionVersion = minEncryptionVersion
            self.deletionAllowed = deletionAllowed
            self.autoRotatePeriodSeconds = autoRotatePeriodSeconds
            self.overlapSeconds = overlapSeconds
            self.expiresAt = expiresAt
        }

        /// Applies the change under Vault's rules: `INVALID_REQUEST` for a version out of range, or a
        /// minimum encryption version below the minimum decryption version.
        public func apply(to key: inout TransitKey) throws(CofferError) {
            if let minDecryptionVersion {
                guard minDecryptionVersion >= 1, minDecryptionVersion <= key.latestVersion else {
                    throw CofferError(.invalidRequest, "min_decryption_version must be between 1 and the latest version")
                }
                key.minDecryptionVersion = minDecryptionVersion
            }
            if let minEncryptionVersion {
                guard minEncryptionVersion >= 0, minEncryptionVersion <= key.latestVersion else {
                    throw CofferError(.invalidRequest, "min_encryption_version must be between 0 and the latest version")
                }
                key.minEncryptionVersion = minEncryptionVersion
            }
            guard key.minEncryptionVersion == 0 || key.minEncryptionVersion >= key.minDecryptionVersion else {
                throw CofferError(.invalidRequest, "min_encryption_version cannot be below min_decryption_version")
            }
            if let deletionAllowed { key.deletionAllowed = deletionAllowed }
            if let autoRotatePeriodSeconds { key.autoRotatePeriodSeconds = autoRotatePeriodSeconds }
            if let overlapSeconds { key.overlapSeconds = overlapSeconds }
            if let expiresAt { key.expiresAt = expiresAt }
        }
    }

    /// Changes a key's configuration in one transaction.
    public func configure(tenant: Tenant, name: String, _ change: ConfigChange, in work: UnitOfWork) async throws -> TransitKey {
        try await update(tenant: tenant, name: name, in: work) { key in try change.apply(to: &key) }
    }

    /// Adds a new latest version.
    public func rotate(tenant: Tenant, name: String, in work: UnitOfWork) async throws -> TransitKey {
        let now = clock.nowMillis
        return try await update(tenant: tenant, name: name, in: work) { key in
            try key.checkNotExpired(now: now)
            key.rotate(material: try key.type.generateMaterial(), now: now)
        }
    }

    /// Deletes versions below `minAvailableVersion` (they can never decrypt again).
    public func trim(tenant: Tenant, name: String, minAvailableVersion: Int, in work: UnitOfWork) async throws -> TransitKey {
        try await update(tenant: tenant, name: name, in: work) { key in
            guard minAvailableVersion > 0, minAvailableVersion <= key.minDecryptionVersion,
                key.minEncryptionVersion == 0 || minAvailableVersion <= key.minEncryptionVersion
            else {
                throw CofferError(
                    .invalidRequest, "min_available_version must be positive and at most min_decryption_version (and min_encryption_version)")
            }
            key.versions.removeAll { $0.version < minAvailableVersion }
        }
    }

    /// Re-seals every key of the tenant still sealed under an older data key than the active one
    /// (part of `keyring reencrypt`). Returns how many were re-sealed; safe to run again.
    public func resealAll(tenant: Tenant, in work: UnitOfWork) async throws -> Int {
        var count = 0
        for name in try await store.keyNames(tenantID: tenant.id) {
            guard let sealed = try await store.sealedKey(tenantID: tenant.id, name: name), let version = SealedBox.keyVersion(of: sealed),
                version < tenant.activeKeyVersion
            else { continue }
            try await update(tenant: tenant, name: name, in: work) { _ in }
            count += 1
        }
        return count
    }

    /// Deletes a key whose configuration allows it.
    public func delete(tenant: Tenant, name: String, in work: UnitOfWork) async throws {
        let key = try await self.key(tenant: tenant, name: name)
        guard key.deletionAllowed else { throw CofferError(.invalidRequest, "deletion is not allowed for this key (set deletion_allowed first)") }
        defer { invalidate() }
        guard try await store.deleteKey(tenantID: tenant.id, name: name, in: work) else {
            throw TransitKey.notFound(name)
        }
    }

    // MARK: - Operations

    /// Encrypts with the latest (or the given) version: `vault:vN:<base64>`.
    public func encrypt(
        tenant: Tenant, name: String, plaintext: [UInt8], aad: [UInt8] = [], context: [UInt8]? = nil, version: Int? = nil
    ) async throws
        -> (ciphertext: String, version: Int)
    {
        let key = try await self.key(tenant: tenant, name: name)
        guard key.type.encrypts else { throw CofferError(.invalidRequest, "a \(key.type.rawValue) key does not encrypt") }
        let chosen = try writable(key, version, tenant: tenant)
        let blob = try TransitCipher.encrypt(plaintext, type: key.type, material: chosen.material, aad: aad, context: try Self.context(key, context))
        return (Self.format(chosen.version, blob), chosen.version)
    }

    /// Decrypts a `vault:vN:` ciphertext; `DECRYPTION_FAILED` for anything altered or foreign.
    public func decrypt(
        tenant: Tenant, name: String, ciphertext: String, aad: [UInt8] = [], context: [UInt8]? = nil
    ) async throws -> (
        plaintext: [UInt8], version: Int
    ) {
        let key = try await self.key(tenant: tenant, name: name)
        guard key.type.encrypts else { throw CofferError(.invalidRequest, "a \(key.type.rawValue) key does not decrypt") }
        guard let (number, blob) = Self.parse(ciphertext) else { throw TransitCipher.failed() }
        let chosen = try readable(key, number, tenant: tenant)
        return (try TransitCipher.decrypt(blob, type: key.type, material: chosen.material, aad: aad, context: try Self.context(key, context)), number)
    }

    /// Signs `input` with the latest (or the given) version.
    public func sign(tenant: Tenant, name: String, input: [UInt8], version: Int? = nil) async throws -> (signature: String, version: Int) {
        let key = try await self.key(tenant: tenant, name: name)
        guard key.type.signs else { throw CofferError(.invalidRequest, "a \(key.type.rawValue) key does not sign") }
        let chosen = try writable(key, version, tenant: tenant)
        return (Self.format(chosen.version, try TransitCipher.sign(input, type: key.type, material: chosen.material)), chosen.version)
    }

    /// Whether `signature` (`vault:vN:`) is valid for `input`. Refused versions throw; bad signatures are `false`.
    public func verify(tenant: Tenant, name: String, input: [UInt8], signature: String) async throws -> Bool {
        let key = try await self.key(tenant: tenant, name: name)
        guard key.type.signs else { throw CofferError(.invalidRequest, "a \(key.type.rawValue) key does not verify signatures") }
        guard let (number, raw) = Self.parse(signature) else { return false }
        let chosen = try readable(key, number, tenant: tenant)
        return TransitCipher.verify(raw, message: input, type: key.type, material: chosen.material)
    }

    /// HMAC-SHA256 of `input` under the version's HMAC key.
    public func hmac(tenant: Tenant, name: String, input: [UInt8], version: Int? = nil) async throws -> (hmac: String, version: Int) {
        let key = try await self.key(tenant: tenant, name: name)
        let chosen = try writable(key, version, tenant: tenant)
        return (Self.format(chosen.version, TransitCipher.hmac(input, material: chosen.material)), chosen.version)
    }

    /// Whether an HMAC (`vault:vN:`) matches `input`, compared in constant time.
    public func verifyHMAC(tenant: Tenant, name: String, input: [UInt8], hmac: String) async throws -> Bool {
        let key = try await self.key(tenant: tenant, name: name)
        guard let (number, raw) = Self.parse(hmac) else { return false }
        let chosen = try readable(key, number, tenant: tenant)
        return ConstantTime.equals(TransitCipher.hmac(input, material: chosen.material), raw)
    }

    /// The raw public key of each version of an asymmetric key.
    public func publicKeys(_ key: TransitKey) throws -> [Int: [UInt8]] {
        var out: [Int: [UInt8]] = [:]
        for version in key.versions { out[version.version] = try TransitCipher.publicKey(type: key.type, material: version.material) }
        return out
    }

    /// Refusals (`KEY_EXPIRED`, `KEY_DISABLED`) counted per key since start, for alerts.
    public func refusalCounts(tenantID: String, name: String) -> [String: Int] {
        refusals.withLock { $0[tenantID + "/" + name] ?? [:] }
    }

    /// Drops every cached key from memory (the keyring was sealed).
    public func forgetKeys() { invalidate() }

    // MARK: - Helpers

    /// Empties the cache after a change committed, and makes loads in flight discard what they read.
    func invalidate() {
        cache?.withLock { cache in
            cache.generation &+= 1
            cache.entries.removeAll()
        }
    }

    /// The version to encrypt or sign with now (`requested` or the latest); refusals are counted for alerts.
    public func writable(_ key: TransitKey, _ requested: Int?, tenant: Tenant) throws(CofferError) -> TransitKey.Version {
        do {
            return try key.versionForWriting(requested, now: clock.nowMillis)
        } catch {
            throw countRefusal(error, tenant: tenant, key: key.name)
        }
    }

    /// The version to decrypt or verify with now; refusals are counted for alerts.
    public func readable(_ key: TransitKey, _ number: Int, tenant: Tenant) throws(CofferError) -> TransitKey.Version {
        do {
            return try key.versionForReading(number, now: clock.nowMillis)
        } catch {
            throw countRefusal(error, tenant: tenant, key: key.name)
        }
    }

    func countRefusal(_ error: CofferError, tenant: Tenant, key name: String) -> CofferError {
        if error.code == .keyExpired || error.code == .keyDisabled {
            refusals.withLock { $0[tenant.id + "/" + name, default: [:]][error.code.rawValue, default: 0] += 1 }
        }
        return error
    }

    static func context(_ key: TransitKey, _ context: [UInt8]?) throws(CofferError) -> [UInt8]? {
        if key.derived {
            guard let context, !context.isEmpty else { throw CofferError(.invalidRequest, "this key is derived: 'context' is required") }
            return context
        }
        return nil
    }

    /// `vault:v<N>:<base64>`.
    public static func format(_ version: Int, _ bytes: [UInt8]) -> String { "vault:v\(version):" + Base64.encode(bytes) }

    /// Parses `vault:v<N>:<base64>`.
    public static func parse(_ text: String) -> (Int, [UInt8])? {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "vault", parts[1].hasPrefix("v"), let version = Int(parts[1].dropFirst()), version > 0,
            !parts[1].dropFirst().hasPrefix("+"), let bytes = Base64.decode(String(parts[2]))
        else { return nil }
        return (version, Array(bytes))
    }

    func seal(_ key: TransitKey, tenant: Tenant) async throws -> [UInt8] {
        let active = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try SealedBox.seal(
            Array(try encoder.encode(key)), key: active.key, keyVersion: active.version, aad: .transitKey(tenantID: tenant.id, name: key.name))
    }

    func open(_ sealed: [UInt8], tenantID: String, name: String) async throws -> TransitKey {
        guard let version = SealedBox.keyVersion(of: sealed) else { throw CofferError(.decryptionFailed, "stored transit key is malformed") }
        let dataKey = try await keyring.dataKey(tenantID: tenantID, version: version)
        let plaintext = try SealedBox.open(sealed, aad: .transitKey(tenantID: tenantID, name: name)) { _ throws(CofferError) in dataKey.key }
        guard let key = try? JSONDecoder().decode(TransitKey.self, from: Data(plaintext)), key.name == name else {
            throw CofferError(.decryptionFailed, "stored transit key is not readable")
        }
        return key
    }
}

import Crypto
import Foundation
import Synchronization

/// The unlocked keyring: the active root key, the credential-hashing key, and a cache of
/// unwrapped tenant data keys. Old data-key versions stay readable; new writes use the active one.
public final class Keyring: Sendable {
    /// Name of the system key used to hash tokens and API keys.
    public static let credentialHashKeyName = "credential-hmac"

    /// The active root key's version.
    public let rootVersion: Int
    /// Name of the system key from which per-tenant audit HMAC keys are derived.
    public static let auditHMACKeyName = "audit-hmac"
    /// Name of the Ed25519 key that signs audit checkpoints.
    public static let auditSigningKeyName = "audit-signing"
    /// The keys held while unsealed; `nil` once sealed (``seal()``), until ``unseal(with:)``.
    private let unlocked: Mutex<Unlocked?>
    private let store: any KeyringStore
    private let tenants: any TenantStore
    private let clock: any CofferClock
    private let cache = Mutex<[String: [Int: DataKey]]>([:])

    private init(
        rootKey: RootKey, hasher: CredentialHasher, auditKey: [UInt8], auditSigningKey: Curve25519.Signing.PrivateKey, store: any KeyringStore,
        tenants: any TenantStore, clock: any CofferClock
    ) {
        self.rootVersion = rootKey.version
        self.unlocked = Mutex(Unlocked(rootKey: rootKey, hasher: hasher, auditKey: auditKey, auditSigningKey: auditSigningKey))
        self.store = store
        self.tenants = tenants
        self.clock = clock
    }

    /// Every key an unsealed keyring holds in memory.
    struct Unlocked: Sendable {
        let rootKey: RootKey
        let hasher: CredentialHasher
        let auditKey: [UInt8]
        let auditSigningKey: Curve25519.Signing.PrivateKey
    }

    /// The held keys, or `SEALED`.
    func keys() throws(CofferError) -> Unlocked {
        guard let keys = unlocked.withLock({ $0 }) else { throw CofferError(.sealed, "Vault is sealed") }
        return keys
    }

    /// Whether the keyring holds no keys (``seal()`` was called and no ``unseal(with:)`` since).
    public var isSealed: Bool { unlocked.withLock { $0 == nil } }

    /// Keyed hasher for tokens and API keys; `SEALED` while sealed.
    public func credentialHasher() throws(CofferError) -> CredentialHasher { try keys().hasher }

    /// Root of the per-tenant audit HMAC keys; `SEALED` while sealed.
    public func auditKey() throws(CofferError) -> [UInt8] { try keys().auditKey }

    /// The key that signs audit checkpoints; `SEALED` while sealed.
    public func auditSigningKey() throws(CofferError) -> Curve25519.Signing.PrivateKey { try keys().auditSigningKey }

    /// Drops the root key, the system keys and every unwrapped data key from memory. Until
    /// ``unseal(with:)``, everything that needs a key fails with `SEALED`.
    public func seal() {
        unlocked.withLock { $0 = nil }
        cache.withLock { $0 = [:] }
    }

    /// Unlocks a sealed keyring with the root key material it was opened with (key or passphrase);
    /// `ROOT_KEY_INVALID` when it does not match the active root key. A no-op when not sealed.
    public func unseal(with source: RootKeySource, storage: any CofferStorage) async throws {
        guard isSealed else { return }
        let opened = try await Self.open(storage: storage, source: source, clock: clock, verifying: false)
        guard opened.rootVersion == rootVersion else {
            throw CofferError(.rootKeyInvalid, "the root key was rotated since this server started; restart it with the new key")
        }
        let keys = try opened.keys()
        unlocked.withLock { $0 = keys }
    }

    /// Unlocks the keyring with `source`, initialising it on an empty store.
    /// Fails with `ROOT_KEY_INVALID` (naming the variable, never the key) if the key does not match.
    ///
    /// Unless `verifying` is `false` (for `coffer keyring verify`, which reports every problem itself), an
    /// opened keyring is verified (``verify()``) and the first problem is thrown as `KEYRING_INVALID`:
    /// a server never starts on a keyring that was rolled back or edited.
    public static func open(
        storage: any CofferStorage, source: RootKeySource, clock: any CofferClock = SystemClock(), verifying: Bool = true
    ) async throws -> Keyring {
        let records = try await storage.keyring.rootKeyRecords()
        guard let active = records.first(where: \.active) else {
            return try await initialise(storage: storage, source: source, clock: clock)
        }
        let rootKey: RootKey
        let origin: String
        switch source {
        case .key(let bytes, let from):
            rootKey = try RootKey(version: active.version, bytes: bytes)
            origin = from
        case .passphrase(let passphrase, _):
            guard let json = active.kdfJSON, let kdf = try? JSONDecoder().decode(PassphraseKDF.self, from: Data(json.utf8)) else {
                throw CofferError(
                    .rootKeyInvalid, "this data store was initialised with a root key, not a passphrase: set COFFER_ROOT_KEY or COFFER_ROOT_KEY_FILE")
            }
            rootKey = try RootKey(version: active.version, bytes: try kdf.deriveKey(passphrase: passphrase))
            origin = "COFFER_ROOT_PASSPHRASE"
        }
        guard rootKey.verify(check: active.check) else {
            throw CofferError(.rootKeyInvalid, "\(origin) does not match root key version \(active.version) of this data store")
        }
        guard let hashKey = try await storage.keyring.systemKey(named: credentialHashKeyName), hashKey.rootVersion == rootKey.version else {
            throw CofferError(.rootKeyInvalid, "the keyring is incomplete: the credential hashing key is missing")
        }
        let hasher = CredentialHasher(keyBytes: try rootKey.unwrapSystemKey(hashKey.wrapped, name: credentialHashKeyName))
        let keyring = try await finish(rootKey: rootKey, hasher: hasher, storage: storage, clock: clock)
        if try await storage.keyring.keyringStatesAdopted() {
            guard verifying else { return keyring }
            let report = try await keyring.settledVerify()
            if let problem = report.problems.first { throw CofferError(.keyringInvalid, "the keyring does not verify: \(problem)") }
        } else {
            try await keyring.adoptStates()
        }
        return keyring
    }

    /// Loads (creating on first use) the audit keys, then builds the keyring.
    private static func finish(rootKey: RootKey, hasher: CredentialHasher, storage: any CofferStorage, clock: any CofferClock) async throws -> Keyring
    {
        var loaded: [String: [UInt8]] = [:]
        for name in [auditHMACKeyName, auditSigningKeyName] {
            var stored = try await storage.keyring.systemKey(named: name)
            if stored == nil {
                // Another instance may insert first; re-read so every instance uses the same key.
                let fresh = name == auditSigningKeyName ? Array(Curve25519.Signing.PrivateKey().rawRepresentation) : SecureRandom.bytes(32)
                try await storage.keyring.insertSystemKeyIfAbsent(
                    name: name, rootVersion: rootKey.version, wrapped: try rootKey.wrapSystemKey(fresh, name: name))
                stored = try await storage.keyring.systemKey(named: name)
            }
            guard let stored, stored.rootVersion == rootKey.version else {
                throw CofferError(.rootKeyInvalid, "the keyring is incomplete: system key \(name) is missing")
            }
            loaded[name] = try rootKey.unwrapSystemKey(stored.wrapped, name: name)
        }
        guard let auditKey = loaded[auditHMACKeyName], let signing = loaded[auditSigningKeyName],
            let signingKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: signing)
        else {
            throw CofferError(.rootKeyInvalid, "the keyring's audit keys are malformed")
        }
        return Keyring(
            rootKey: rootKey, hasher: hasher, auditKey: auditKey, auditSigningKey: signingKey, store: storage.keyring, tenants: storage.tenants,
            clock: clock)
    }

    private static func initialise(storage: any CofferStorage, source: RootKeySource, clock: any CofferClock) async throws -> Keyring {
        let rootKey: RootKey
        var kdfJSON: String?
        switch source {
        case .key(let bytes, _):
            rootKey = try RootKey(version: 1, bytes: bytes)
        case .passphrase(let passphrase, let algorithm):
            let kdf = PassphraseKDF.generate(algorithm)
            rootKey = try RootKey(version: 1, bytes: try kdf.deriveKey(passphrase: passphrase))
            kdfJSON = String(decoding: try JSONEncoder().encode(kdf), as: UTF8.self)
        }
        let hashKeyBytes = SecureRandom.bytes(32)
        let record = RootKeyRecord(version: 1, check: try rootKey.makeCheck(), kdfJSON: kdfJSON, active: true, createdAt: clock.nowMillis)
        try await storage.keyring.installRootKey(
            record, systemKeys: [credentialHashKeyName: try rootKey.wrapSystemKey(hashKeyBytes, name: credentialHashKeyName)])
        let keyring = try await finish(rootKey: rootKey, hasher: CredentialHasher(keyBytes: hashKeyBytes), storage: storage, clock: clock)
        try await keyring.adoptStates()
        return keyring
    }

    /// A fresh, wrapped first data key for a new tenant.
    public func newTenantKey(tenantID: String) throws(CofferError) -> WrappedDataKey {
        let rootKey = try keys().rootKey
        let key = DataKey.generate(version: 1)
        return WrappedDataKey(
            tenantID: tenantID, version: 1, rootVersion: rootVersion, wrapped: try rootKey.wrap(key, tenantID: tenantID),
            createdAt: clock.nowMillis)
    }

    /// The first authenticated keyring state of a new tenant whose first key is `firstKey`.
    public func firstState(for firstKey: WrappedDataKey) throws(CofferError) -> KeyringState {
        KeyringState.make(tenantID: firstKey.tenantID, keys: [firstKey], activeVersion: firstKey.version, after: nil, rootKey: try keys().rootKey)
    }

    /// What ``verify()`` found: one sentence per problem, each naming the tenant and the version.
    public struct VerifyReport: Sendable, Equatable {
        /// Tenants checked.
        public var tenants: Int
        /// Data-key versions checked.
        public var dataKeys: Int
        /// Problems found; empty when the keyring verifies.
        public var problems: [String]
        /// Whether the keyring verifies.
        public var ok: Bool { problems.isEmpty }

        /// Creates a report.
        public init(tenants: Int, dataKeys: Int, problems: [String]) {
            self.tenants = tenants
            self.dataKeys = dataKeys
            self.problems = problems
        }
    }

    /// Checks every tenant's keyring against its authenticated state, and every stored ciphertext's key
    /// version against the keyring: a keyring rolled back under data sealed by a newer key is reported
    /// here, before anything is written under a reissued version.
    public func verify() async throws -> VerifyReport {
        let rootKey = try keys().rootKey
        let tenantList = try await tenants.listTenants()
        let states = Dictionary(try await store.keyringStates().map { ($0.tenantID, $0) }, uniquingKeysWith: { first, _ in first })
        let keys = Dictionary(grouping: try await store.allDataKeys(), by: \.tenantID)
        let referenced = try await store.referencedKeyVersions()
        var report = VerifyReport(tenants: tenantList.count, dataKeys: keys.values.reduce(0) { $0 + $1.count }, problems: [])
        let known = Set(tenantList.map(\.id))
        for tenant in tenantList {
            let held = keys[tenant.id] ?? []
            guard let state = states[tenant.id] else {
                report.problems.append("tenant '\(tenant.name)' has no authenticated keyring state")
                continue
            }
            if let problem = state.problem(keys: held, activeVersion: tenant.activeKeyVersion, rootKey: rootKey) {
                report.problems.append("tenant '\(tenant.name)': \(problem)")
            }
            let versions = Set(held.map(\.version))
            for version in (referenced[tenant.id] ?? []).sorted() where !versions.contains(version) {
                report.problems.append(
                    "tenant '\(tenant.name)': stored data is sealed under data key version \(version), which the keyring does not hold (rolled back?)"
                )
            }
        }
        for tenantID in Set(keys.keys).union(states.keys).subtracting(known).sorted() {
            report.problems.append("data keys or a keyring state name tenant id \(tenantID), which does not exist")
        }
        return report
    }

    /// ``verify()``, read again (up to three times, 100 ms apart) while it finds problems: its reads are
    /// separate queries, so another instance's rotation committing between them can look like a
    /// mismatch for an instant. A rolled-back or edited keyring fails every time.
    func settledVerify() async throws -> VerifyReport {
        var report = try await verify()
        for _ in 0..<2 where !report.ok {
            try await Task.sleep(for: .milliseconds(100))
            report = try await verify()
        }
        return report
    }

    /// Writes first states for the tenants of a store made before keyring states existed.
    func adoptStates() async throws {
        let rootKey = try keys().rootKey
        let keys = Dictionary(grouping: try await store.allDataKeys(), by: \.tenantID)
        let states = try await tenants.listTenants().map { tenant in
            KeyringState.make(tenantID: tenant.id, keys: keys[tenant.id] ?? [], activeVersion: tenant.activeKeyVersion, after: nil, rootKey: rootKey)
        }
        try await store.adoptKeyringStates(states)
    }

    /// The tenant's current stored state, verified; `KEYRING_INVALID` if it is missing or does not verify
    /// (read again, up to three times, so another instance's change committing mid-read is not mistaken
    /// for tampering).
    private func verifiedState(tenantID: String) async throws -> (KeyringState, [WrappedDataKey], Tenant) {
        var attempt = 0
        while true {
            do {
                return try await readVerifiedState(tenantID: tenantID)
            } catch let error as CofferError where error.code == .keyringInvalid && attempt < 2 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    private func readVerifiedState(tenantID: String) async throws -> (KeyringState, [WrappedDataKey], Tenant) {
        let rootKey = try keys().rootKey
        if let active = try await store.rootKeyRecords().first(where: \.active), active.version != rootVersion {
            throw CofferError(.keyVersionUnknown, "the root key was rotated: restart this server with the new root key")
        }
        guard let tenant = try await tenants.tenant(id: tenantID) else { throw CofferError(.tenantNotFound, "no such tenant") }
        let keys = try await store.dataKeys(tenantID: tenantID)
        guard let state = try await store.keyringStates().first(where: { $0.tenantID == tenantID }) else {
            throw CofferError(.keyringInvalid, "tenant '\(tenant.name)' has no authenticated keyring state")
        }
        if let problem = state.problem(keys: keys, activeVersion: tenant.activeKeyVersion, rootKey: rootKey) {
            throw CofferError(.keyringInvalid, "tenant '\(tenant.name)': \(problem)")
        }
        let held = Set(keys.map(\.version))
        if let missing = (try await store.referencedKeyVersions()[tenantID] ?? []).sorted().first(where: { !held.contains($0) }) {
            throw CofferError(
                .keyringInvalid,
                "tenant '\(tenant.name)': stored data is sealed under data key version \(missing), which the keyring does not hold (rolled back?)")
        }
        return (state, keys, tenant)
    }

    /// The data key of `version` for a tenant, unwrapping and caching it on first use.
    public func dataKey(tenantID: String, version: Int) async throws -> DataKey {
        let rootKey = try keys().rootKey
        if let key = cache.withLock({ $0[tenantID]?[version] }) { return key }
        let wrapped = try await store.dataKeys(tenantID: tenantID)
        guard let record = wrapped.first(where: { $0.version == version }) else {
            throw CofferError(.keyVersionUnknown, "data key version \(version) does not exist for this tenant")
        }
        guard record.rootVersion == rootVersion else {
            throw CofferError(.keyVersionUnknown, "data key version \(version) is wrapped by an unknown root key version")
        }
        let key = try rootKey.unwrap(record.wrapped, tenantID: tenantID, version: version)
        cache.withLock { $0[tenantID, default: [:]][version] = key }
        return key
    }

    /// Creates a new data-key version for a tenant and makes it active. Returns the new version: above
    /// every version the authenticated state ever issued, every version stored, and every version stored
    /// data names, so a number is never issued twice whatever the database says.
    public func rotateDataKey(tenantID: String, in work: UnitOfWork) async throws -> Int {
        let rootKey = try keys().rootKey
        let (state, existing, _) = try await verifiedState(tenantID: tenantID)
        let version = max(state.highestVersion, existing.map(\.version).max() ?? 0) + 1
        let key = DataKey.generate(version: version)
        let wrapped = WrappedDataKey(
            tenantID: tenantID, version: version, rootVersion: rootVersion, wrapped: try rootKey.wrap(key, tenantID: tenantID),
            createdAt: clock.nowMillis)
        let next = KeyringState.make(tenantID: tenantID, keys: existing + [wrapped], activeVersion: version, after: state, rootKey: rootKey)
        work.addDetails(["new_version": String(version)])
        try await store.addDataKey(wrapped, state: next, in: work)
        cache.withLock { $0[tenantID, default: [:]][version] = key }
        return version
    }

    /// Rotates the root key: rewraps every tenant data key and system key under `newSource`, recorded as
    /// root version N+1, in one transaction. Returns the new version. Servers must restart with the new key.
    public func rotateRoot(to newSource: RootKeySource) async throws -> Int {
        let rootKey = try keys().rootKey
        let records = try await store.rootKeyRecords()
        let version = (records.map(\.version).max() ?? rootVersion) + 1
        let newKey: RootKey
        var kdfJSON: String?
        switch newSource {
        case .key(let bytes, _):
            newKey = try RootKey(version: version, bytes: bytes)
        case .passphrase(let passphrase, let algorithm):
            let kdf = PassphraseKDF.generate(algorithm)
            newKey = try RootKey(version: version, bytes: try kdf.deriveKey(passphrase: passphrase))
            kdfJSON = String(decoding: try JSONEncoder().encode(kdf), as: UTF8.self)
        }
        var systemKeys: [String: [UInt8]] = [:]
        for name in try await store.systemKeyNames() {
            guard let stored = try await store.systemKey(named: name) else { continue }
            systemKeys[name] = try newKey.wrapSystemKey(try rootKey.unwrapSystemKey(stored.wrapped, name: name), name: name)
        }
        let report = try await settledVerify()
        if let problem = report.problems.first { throw CofferError(.keyringInvalid, "the keyring does not verify: \(problem)") }
        var rewrapped: [WrappedDataKey] = []
        for wrapped in try await store.allDataKeys() {
            let key = try rootKey.unwrap(wrapped.wrapped, tenantID: wrapped.tenantID, version: wrapped.version)
            rewrapped.append(
                WrappedDataKey(
                    tenantID: wrapped.tenantID, version: wrapped.version, rootVersion: version,
                    wrapped: try newKey.wrap(key, tenantID: wrapped.tenantID), createdAt: wrapped.createdAt))
        }
        let previous = Dictionary(try await store.keyringStates().map { ($0.tenantID, $0) }, uniquingKeysWith: { first, _ in first })
        let rewrappedByTenant = Dictionary(grouping: rewrapped, by: \.tenantID)
        let states = try await tenants.listTenants().map { tenant in
            KeyringState.make(
                tenantID: tenant.id, keys: rewrappedByTenant[tenant.id] ?? [], activeVersion: tenant.activeKeyVersion, after: previous[tenant.id],
                rootKey: newKey)
        }
        try await store.rotateRootKey(
            RootKeyRecord(version: version, check: try newKey.makeCheck(), kdfJSON: kdfJSON, active: true, createdAt: clock.nowMillis),
            systemKeys: systemKeys,
            dataKeys: rewrapped, states: states)
        return version
    }

    /// Destroys an old data-key version of a tenant if nothing uses it any more: the store checks again
    /// in the same transaction that writes the tenant's new authenticated state. Never the active
    /// version. Returns whether it was destroyed.
    public func destroyDataKey(tenantID: String, version: Int, in work: UnitOfWork) async throws -> Bool {
        let rootKey = try keys().rootKey
        let (state, existing, tenant) = try await verifiedState(tenantID: tenantID)
        guard version != tenant.activeKeyVersion, version != state.activeVersion else { return false }
        guard existing.contains(where: { $0.version == version }) else { return false }
        let next = KeyringState.make(
            tenantID: tenantID, keys: existing.filter { $0.version != version }, activeVersion: state.activeVersion, after: state, rootKey: rootKey)
        work.addDetails(["destroyed_version": String(version)])
        guard try await store.removeDataKey(tenantID: tenantID, version: version, state: next, in: work) else { return false }
        cache.withLock { _ = $0[tenantID]?.removeValue(forKey: version) }
        return true
    }

    /// Points a tenant's writes back at an existing data-key version (rollback).
    public func activate(tenantID: String, version: Int, in work: UnitOfWork) async throws {
        let rootKey = try keys().rootKey
        _ = try await dataKey(tenantID: tenantID, version: version)
        let (state, existing, _) = try await verifiedState(tenantID: tenantID)
        let next = KeyringState.make(tenantID: tenantID, keys: existing, activeVersion: version, after: state, rootKey: rootKey)
        work.addDetails(["active_version": String(version)])
        try await store.setActiveDataKey(tenantID: tenantID, version: version, state: next, in: work)
    }
}

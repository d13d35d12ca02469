import Crypto

/// The authenticated state of one tenant's keyring: which data-key versions exist (each by a digest of
/// its wrapped form), which one is active, the highest version ever issued, and a generation that
/// grows with every change. It is MAC'd under a key derived from the root key, so an edit of
/// `data_keys` or `tenants.active_key_version` that does not come with a matching state (which only
/// the root key can make) is detected when the keyring is verified.
public struct KeyringState: Sendable, Hashable {
    /// The tenant.
    public var tenantID: String
    /// Grows by one with every change of the tenant's keyring.
    public var generation: Int64
    /// The data-key version new writes use.
    public var activeVersion: Int
    /// The highest data-key version ever issued to this tenant; the next one is above it.
    public var highestVersion: Int
    /// SHA-256 of each wrapped data key, by version.
    public var digests: [Int: [UInt8]]
    /// HMAC-SHA256 of ``signedBytes`` under the root key's keyring-state key.
    public var mac: [UInt8]

    /// Creates a state value.
    public init(tenantID: String, generation: Int64, activeVersion: Int, highestVersion: Int, digests: [Int: [UInt8]], mac: [UInt8]) {
        self.tenantID = tenantID
        self.generation = generation
        self.activeVersion = activeVersion
        self.highestVersion = highestVersion
        self.digests = digests
        self.mac = mac
    }

    /// The state of `keys` with `active` in force, one generation after `previous`, MAC'd by `rootKey`.
    public static func make(
        tenantID: String, keys: [WrappedDataKey], activeVersion: Int, after previous: KeyringState?, rootKey: RootKey
    ) -> KeyringState {
        var digests: [Int: [UInt8]] = [:]
        for key in keys where key.tenantID == tenantID { digests[key.version] = digest(key) }
        let highest = max(previous?.highestVersion ?? 0, digests.keys.max() ?? 0)
        var state = KeyringState(
            tenantID: tenantID, generation: (previous?.generation ?? 0) + 1, activeVersion: activeVersion, highestVersion: highest,
            digests: digests, mac: [])
        state.mac = rootKey.authenticateKeyringState(state.signedBytes())
        return state
    }

    /// SHA-256 over a wrapped key's version, root version and bytes.
    public static func digest(_ key: WrappedDataKey) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("\(key.version):\(key.rootVersion):".utf8))
        hasher.update(data: key.wrapped)
        return Array(hasher.finalize())
    }

    /// The bytes the MAC covers.
    public func signedBytes() -> [UInt8] {
        var text = "coffer-keyring-state-v1\n\(tenantID)\n\(generation)\n\(activeVersion)\n\(highestVersion)\n"
        for version in digests.keys.sorted() { text += "\(version):\(digests[version]?.hexString ?? "")\n" }
        return Array(text.utf8)
    }

    /// What is wrong with this state as stored, given the tenant's stored data keys and active version;
    /// `nil` when it verifies. Never names key material.
    public func problem(keys: [WrappedDataKey], activeVersion stored: Int, rootKey: RootKey) -> String? {
        guard rootKey.isAuthenticKeyringState(signedBytes(), mac: mac) else {
            return "its keyring state does not verify under the root key (edited, or written by another root key)"
        }
        var found: [Int: [UInt8]] = [:]
        for key in keys where key.tenantID == tenantID { found[key.version] = Self.digest(key) }
        for version in digests.keys.sorted() where found[version] == nil {
            return "data key version \(version) is missing from the keyring"
        }
        for version in found.keys.sorted() where digests[version] == nil {
            return "data key version \(version) is not part of the authenticated keyring"
        }
        for (version, digest) in found where !ConstantTime.equals(digest, digests[version] ?? []) {
            return "data key version \(version) was replaced"
        }
        guard stored == activeVersion else {
            return "the active data key version is \(stored) but the authenticated keyring says \(activeVersion)"
        }
        return nil
    }
}

extension RootKey {
    /// The HMAC key for keyring states, derived from the root key (HKDF-SHA256, its own label).
    private var keyringStateKey: SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, salt: Array("coffer".utf8), info: Array("keyring-state-v1".utf8), outputByteCount: 32)
    }

    /// HMAC-SHA256 of a keyring state's bytes.
    public func authenticateKeyringState(_ bytes: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: bytes, using: keyringStateKey))
    }

    /// Whether `mac` authenticates `bytes` (constant time).
    public func isAuthenticKeyringState(_ bytes: [UInt8], mac: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: keyringStateKey)
    }
}

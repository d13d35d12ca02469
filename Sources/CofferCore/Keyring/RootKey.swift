import Crypto

/// A version of the root key (key-encryption key). It never leaves memory: not the database, not logs.
public struct RootKey: Sendable {
    /// The root key version this key is recorded as.
    public let version: Int
    let key: SymmetricKey

    /// Wraps raw key bytes; they must be exactly 32 bytes.
    public init(version: Int, bytes: [UInt8]) throws(CofferError) {
        guard bytes.count == 32 else {
            throw CofferError(.rootKeyInvalid, "the root key must be exactly 32 bytes (base64 of 32 random bytes)")
        }
        self.version = version
        self.key = SymmetricKey(data: bytes)
    }

    /// A fresh random root key.
    public static func generate(version: Int = 1) -> RootKey {
        RootKey(version: version, key: SymmetricKey(size: .bits256))
    }

    private init(version: Int, key: SymmetricKey) {
        self.version = version
        self.key = key
    }

    /// The key as base64, for writing a generated key file once.
    public func exportBase64() -> String {
        key.withUnsafeBytes { Base64.encode(Array($0)) }
    }

    static let checkPlaintext = Array("coffer root key check v1".utf8)

    /// A blob stored beside the keyring that proves, at start-up, that this is the right root key.
    public func makeCheck() throws(CofferError) -> [UInt8] {
        try SealedBox.seal(Self.checkPlaintext, key: key, keyVersion: version, aad: .systemKey(name: "root-check", rootVersion: version))
    }

    /// Whether `check` was made by this root key.
    public func verify(check: [UInt8]) -> Bool {
        let opened = try? SealedBox.open(check, aad: .systemKey(name: "root-check", rootVersion: version)) { _ throws(CofferError) in key }
        return opened.map { ConstantTime.equals($0, Self.checkPlaintext) } ?? false
    }

    /// Wraps a tenant data key under this root key.
    public func wrap(_ dataKey: DataKey, tenantID: String) throws(CofferError) -> [UInt8] {
        let raw = dataKey.key.withUnsafeBytes { Array($0) }
        return try SealedBox.seal(
            raw, key: key, keyVersion: version,
            aad: .dataKey(tenantID: tenantID, version: dataKey.version, rootVersion: version))
    }

    /// Unwraps a tenant data key; fails if it was wrapped for another tenant, version or root key.
    public func unwrap(_ wrapped: [UInt8], tenantID: String, version: Int) throws(CofferError) -> DataKey {
        let raw = try SealedBox.open(wrapped, aad: .dataKey(tenantID: tenantID, version: version, rootVersion: self.version)) {
            declared throws(CofferError) in
            guard declared == self.version else {
                throw CofferError(.keyVersionUnknown, "data key \(version) is wrapped by root key version \(declared), not \(self.version)")
            }
            return key
        }
        return DataKey(version: version, key: SymmetricKey(data: raw))
    }

    /// Wraps a named system key (for example the token hashing key).
    public func wrapSystemKey(_ bytes: [UInt8], name: String) throws(CofferError) -> [UInt8] {
        try SealedBox.seal(bytes, key: key, keyVersion: version, aad: .systemKey(name: name, rootVersion: version))
    }

    /// Unwraps a named system key.
    public func unwrapSystemKey(_ wrapped: [UInt8], name: String) throws(CofferError) -> [UInt8] {
        try SealedBox.open(wrapped, aad: .systemKey(name: name, rootVersion: version)) { _ throws(CofferError) in key }
    }
}

/// A tenant's data-encryption key (DEK) of one version, unwrapped in memory.
public struct DataKey: Sendable {
    /// The DEK version within its tenant.
    public let version: Int
    /// The AES-256 key.
    public let key: SymmetricKey

    /// A fresh random data key.
    public static func generate(version: Int) -> DataKey {
        DataKey(version: version, key: SymmetricKey(size: .bits256))
    }
}

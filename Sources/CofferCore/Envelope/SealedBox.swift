import Crypto

/// Coffer's self-describing AES-256-GCM blob.
///
/// Layout: `format (1 byte, = 1) ‖ key version (4 bytes, big-endian) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
/// The 5-byte header is authenticated together with the caller's ``AssociatedData``, so changing
/// the declared key version, the format, the nonce, the ciphertext, the tag or the AAD fails to open.
public enum SealedBox {
    /// The only format version written today.
    public static let formatVersion: UInt8 = 1
    /// Header length (format + key version).
    public static let headerLength = 5
    /// Smallest valid blob: header, nonce and tag around an empty plaintext.
    public static let minimumLength = headerLength + 12 + 16

    /// Encrypts `plaintext` under `key` (recorded as `keyVersion`) with a fresh random nonce.
    public static func seal(
        _ plaintext: some Collection<UInt8>, key: SymmetricKey, keyVersion: Int, aad: AssociatedData
    ) throws(CofferError) -> [UInt8] {
        let header = self.header(keyVersion: keyVersion)
        do {
            let box = try AES.GCM.seal(Array(plaintext), using: key, nonce: AES.GCM.Nonce(), authenticating: header + aad.bytes)
            return header + Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
        } catch {
            throw CofferError(.internalError, "encryption failed")
        }
    }

    /// The key version a blob declares, or `nil` if the blob is not in Coffer's format.
    public static func keyVersion(of blob: [UInt8]) -> Int? {
        guard blob.count >= minimumLength, blob[0] == formatVersion else { return nil }
        return Int(UInt32(blob[1]) << 24 | UInt32(blob[2]) << 16 | UInt32(blob[3]) << 8 | UInt32(blob[4]))
    }

    /// Decrypts and authenticates a blob. `key` receives the declared version and returns its key.
    public static func open(
        _ blob: [UInt8], aad: AssociatedData, key: (Int) throws(CofferError) -> SymmetricKey
    ) throws(CofferError) -> [UInt8] {
        guard let version = keyVersion(of: blob) else {
            throw CofferError(.decryptionFailed, "ciphertext is malformed")
        }
        let symmetricKey = try key(version)
        let nonceStart = headerLength
        let cipherStart = nonceStart + 12
        let tagStart = blob.count - 16
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: blob[nonceStart..<cipherStart]),
                ciphertext: blob[cipherStart..<tagStart],
                tag: blob[tagStart...]
            )
            return Array(try AES.GCM.open(box, using: symmetricKey, authenticating: Array(blob[0..<headerLength]) + aad.bytes))
        } catch {
            throw CofferError(.decryptionFailed, "ciphertext failed authentication")
        }
    }

    static func header(keyVersion: Int) -> [UInt8] {
        let v = UInt32(truncatingIfNeeded: keyVersion)
        return [formatVersion, UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}

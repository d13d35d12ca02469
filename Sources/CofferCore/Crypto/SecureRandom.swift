import Crypto

/// Random bytes from the system CSPRNG (through BoringSSL).
public enum SecureRandom {
    /// `count` cryptographically secure random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count > 0 && count % 8 == 0, "byte counts are whole 64-bit words")
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8))
        return key.withUnsafeBytes { Array($0) }
    }
}

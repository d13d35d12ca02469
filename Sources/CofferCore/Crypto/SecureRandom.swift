import Crypto

/// Random bytes from the system CSPRNG (through BoringSSL).
public enum SecureRandom {
    /// `count` cryptographically secure random bytes.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count > 0 && count % 8 == 0, "byte counts are whole 64-bit words")
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8))
        return key.withUnsafeBytes { Array($0) }
    }

    /// A random (version 4) UUID in its lowercase text form.
    public static func uuid() -> String {
        var raw = bytes(16)
        raw[6] = (raw[6] & 0x0f) | 0x40
        raw[8] = (raw[8] & 0x3f) | 0x80
        let hex = raw.map { byte in String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16) }.joined()
        let text = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(text[$0]) }.joined(separator: "-")
    }
}

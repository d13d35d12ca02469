import Crypto

extension LeakScanner.Finding {
    /// The credential's SHA-256 in hex: recognises the same leak across runs and reports without the value.
    public var fingerprint: String { Array(SHA256.hash(data: Array(value.utf8))).hexString }
}

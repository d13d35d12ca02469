import Crypto

/// The digests `transit/hash` offers (Vault's names). SHA-224 and SHA3-224 are not offered by
/// swift-crypto and are refused by name rather than computed by hand.
public enum TransitDigest: String, Sendable, CaseIterable {
    /// SHA-256 (the default).
    case sha2_256 = "sha2-256"
    /// SHA-384.
    case sha2_384 = "sha2-384"
    /// SHA-512.
    case sha2_512 = "sha2-512"
    /// SHA3-256.
    case sha3_256 = "sha3-256"
    /// SHA3-384.
    case sha3_384 = "sha3-384"
    /// SHA3-512.
    case sha3_512 = "sha3-512"

    /// Names Vault accepts that Coffer refuses, with why.
    public static let refused: Set<String> = ["sha2-224", "sha3-224"]

    /// The digest of `input`.
    public func digest(_ input: [UInt8]) -> [UInt8] {
        switch self {
        case .sha2_256: Array(SHA256.hash(data: input))
        case .sha2_384: Array(SHA384.hash(data: input))
        case .sha2_512: Array(SHA512.hash(data: input))
        case .sha3_256: Array(SHA3_256.hash(data: input))
        case .sha3_384: Array(SHA3_384.hash(data: input))
        case .sha3_512: Array(SHA3_512.hash(data: input))
        }
    }
}

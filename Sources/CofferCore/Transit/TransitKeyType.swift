import Crypto
import Foundation

/// The algorithms of named transit keys: Vault's names where Vault has the algorithm, Coffer's for the
/// post-quantum ones.
public enum TransitKeyType: String, Sendable, Codable, CaseIterable {
    /// AES-256-GCM with 96-bit random nonces.
    case aes256GCM96 = "aes256-gcm96"
    /// ChaCha20-Poly1305 with 96-bit random nonces.
    case chacha20Poly1305 = "chacha20-poly1305"
    /// Ed25519 signatures.
    case ed25519
    /// ECDSA over P-256 with SHA-256 (DER signatures).
    case ecdsaP256 = "ecdsa-p256"
    /// HMAC-SHA256 only.
    case hmac
    /// ML-DSA-65 signatures (FIPS 204).
    case mlDSA65 = "ml-dsa-65"
    /// ML-KEM-768 (FIPS 203) + HKDF-SHA256 + AES-256-GCM encryption.
    case mlKEM768 = "ml-kem-768"
    /// X-Wing (ML-KEM-768 + X25519) through HPKE (RFC 9180) with HKDF-SHA256 and AES-256-GCM.
    case xWing = "x-wing"
    /// Hybrid signatures: Ed25519 and ML-DSA-65 over the same message; both must verify.
    case ed25519MLDSA65 = "ed25519-ml-dsa-65"

    /// Whether the key encrypts and decrypts.
    public var encrypts: Bool { [.aes256GCM96, .chacha20Poly1305, .mlKEM768, .xWing].contains(self) }
    /// Whether the key signs and verifies.
    public var signs: Bool { [.ed25519, .ecdsaP256, .mlDSA65, .ed25519MLDSA65].contains(self) }
    /// Whether the key has a public part worth showing.
    public var isAsymmetric: Bool { signs || self == .mlKEM768 || self == .xWing }

    /// Fresh private material for a new version (seeds for the post-quantum and hybrid types).
    public func generateMaterial() throws -> [UInt8] {
        switch self {
        case .aes256GCM96, .chacha20Poly1305, .hmac: return SecureRandom.bytes(32)
        case .ed25519: return Array(Curve25519.Signing.PrivateKey().rawRepresentation)
        case .ecdsaP256: return Array(P256.Signing.PrivateKey().rawRepresentation)
        case .mlDSA65: return Array(try MLDSA65.PrivateKey().seedRepresentation)
        case .mlKEM768: return Array(try MLKEM768.PrivateKey().seedRepresentation)
        case .xWing: return Array(try XWingMLKEM768X25519.PrivateKey().seedRepresentation)
        case .ed25519MLDSA65:
            return Array(Curve25519.Signing.PrivateKey().rawRepresentation) + Array(try MLDSA65.PrivateKey().seedRepresentation)
        }
    }
}

import Crypto
import Foundation

/// The cryptography of one transit key version, all from swift-crypto (BoringSSL):
///
/// - `aes256-gcm96` / `chacha20-poly1305`: `nonce(12) ‖ ciphertext ‖ tag(16)`, AAD = `associated_data`;
///   derived keys are HKDF-SHA256(material, salt: empty, info: context).
/// - `ml-kem-768`: encapsulate to the version's public key; key = HKDF-SHA256(shared secret,
///   salt: "coffer-transit-ml-kem-768-v1", info: encapsulation); then AES-256-GCM:
///   `encapsulation(1088) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, AAD = `associated_data`.
/// - `x-wing`: HPKE base mode (RFC 9180) with X-Wing, HKDF-SHA256, AES-256-GCM and info
///   "coffer-transit-x-wing-v1": `encapsulation(1120) ‖ HPKE ciphertext`, AAD = `associated_data`.
/// - Signatures: Ed25519, ECDSA P-256/SHA-256 (DER), ML-DSA-65, and the hybrid
///   `ed25519 signature(64) ‖ ML-DSA-65 signature`, valid only if both are.
/// - HMAC-SHA256 with a per-version key = HKDF-SHA256(material, info: "coffer-transit-hmac-v1").
public enum TransitCipher {
    static let mlkemSalt = Array("coffer-transit-ml-kem-768-v1".utf8)
    static let xwingInfo = Data("coffer-transit-x-wing-v1".utf8)
    static let hmacInfo = Array("coffer-transit-hmac-v1".utf8)

    static func failed() -> CofferError { CofferError(.decryptionFailed, "ciphertext could not be decrypted", isClientInput: true) }

    static func symmetricKey(_ material: [UInt8], context: [UInt8]?) -> SymmetricKey {
        guard let context else { return SymmetricKey(data: material) }
        return HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), info: context, outputByteCount: 32)
    }

    /// Encrypts with one version. Only encryption types.
    public static func encrypt(_ plaintext: [UInt8], type: TransitKeyType, material: [UInt8], aad: [UInt8], context: [UInt8]?) throws -> [UInt8] {
        switch type {
        case .aes256GCM96:
            return Array(try AES.GCM.seal(plaintext, using: symmetricKey(material, context: context), authenticating: aad).combined ?? Data())
        case .chacha20Poly1305:
            return Array(try ChaChaPoly.seal(plaintext, using: symmetricKey(material, context: context), authenticating: aad).combined)
        case .mlKEM768:
            let key = try MLKEM768.PrivateKey(seedRepresentation: material, publicKey: nil).publicKey
            let encapsulation = try key.encapsulate()
            let derived = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: encapsulation.sharedSecret, salt: mlkemSalt, info: encapsulation.encapsulated, outputByteCount: 32)
            let sealed = try AES.GCM.seal(plaintext, using: derived, authenticating: aad)
            return Array(encapsulation.encapsulated) + Array(sealed.combined ?? Data())
        case .xWing:
            let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: material, publicKey: nil).publicKey
            var sender = try HPKE.Sender(recipientKey: key, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: xwingInfo)
            let ciphertext = try sender.seal(plaintext, authenticating: aad)
            return Array(sender.encapsulatedKey) + Array(ciphertext)
        default:
            throw CofferError(.invalidRequest, "a \(type.rawValue) key does not encrypt")
        }
    }

    /// Decrypts with one version; any failure is `DECRYPTION_FAILED` (no detail that would help an oracle).
    public static func decrypt(
        _ blob: [UInt8], type: TransitKeyType, material: [UInt8], aad: [UInt8], context: [UInt8]?
    ) throws(CofferError) -> [UInt8] {
        do {
            switch type {
            case .aes256GCM96:
                return Array(
                    try AES.GCM.open(AES.GCM.SealedBox(combined: blob), using: symmetricKey(material, context: context), authenticating: aad))
            case .chacha20Poly1305:
                return Array(
                    try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: blob), using: symmetricKey(material, context: context), authenticating: aad))
            case .mlKEM768:
                guard blob.count > 1088 + 28 else { throw failed() }
                let key = try MLKEM768.PrivateKey(seedRepresentation: material, publicKey: nil)
                let encapsulated = Data(blob[..<1088])
                let shared = try key.decapsulate(encapsulated)
                let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: shared, salt: mlkemSalt, info: encapsulated, outputByteCount: 32)
                return Array(try AES.GCM.open(AES.GCM.SealedBox(combined: blob[1088...]), using: derived, authenticating: aad))
            case .xWing:
                guard blob.count > 1120 + 16 else { throw failed() }
                let key = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: material, publicKey: nil)
                var recipient = try HPKE.Recipient(
                    privateKey: key, ciphersuite: .XWingMLKEM768X25519_SHA256_AES_GCM_256, info: xwingInfo, encapsulatedKey: Data(blob[..<1120]))
                return Array(try recipient.open(blob[1120...], authenticating: aad))
            default:
                throw CofferError(.invalidRequest, "a \(type.rawValue) key does not decrypt")
            }
        } catch let error as CofferError where error.code == .invalidRequest {
            throw error
        } catch {
            throw failed()
        }
    }

    /// Signs `message` with one version. Only signing types.
    public static func sign(_ message: [UInt8], type: TransitKeyType, material: [UInt8]) throws -> [UInt8] {
        switch type {
        case .ed25519: return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: material).signature(for: message))
        case .ecdsaP256: return Array(try P256.Signing.PrivateKey(rawRepresentation: material).signature(for: message).derRepresentation)
        case .mlDSA65: return Array(try MLDSA65.PrivateKey(seedRepresentation: material, publicKey: nil).signature(for: message))
        case .ed25519MLDSA65:
            guard material.count == 64 else { throw CofferError(.internalError, "hybrid key material is malformed") }
            let classical = try Curve25519.Signing.PrivateKey(rawRepresentation: material[..<32]).signature(for: message)
            let quantum = try MLDSA65.PrivateKey(seedRepresentation: material[32...], publicKey: nil).signature(for: message)
            return Array(classical) + Array(quantum)
        default: throw CofferError(.invalidRequest, "a \(type.rawValue) key does not sign")
        }
    }

    /// Whether `signature` is valid for `message` under one version.
    public static func verify(_ signature: [UInt8], message: [UInt8], type: TransitKeyType, material: [UInt8]) -> Bool {
        guard let publicKey = try? publicKey(type: type, material: material) else { return false }
        return verify(signature, message: message, type: type, publicKey: publicKey)
    }

    /// Whether `signature` is valid for `message` under a raw public key of `type`.
    public static func verify(_ signature: [UInt8], message: [UInt8], type: TransitKeyType, publicKey: [UInt8]) -> Bool {
        switch type {
        case .ed25519:
            return (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey).isValidSignature(signature, for: message)) ?? false
        case .ecdsaP256:
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature),
                let key = try? P256.Signing.PublicKey(rawRepresentation: publicKey)
            else { return false }
            return key.isValidSignature(parsed, for: message)
        case .mlDSA65:
            return (try? MLDSA65.PublicKey(rawRepresentation: publicKey).isValidSignature(signature, for: message)) ?? false
        case .ed25519MLDSA65:
            guard signature.count > 64, publicKey.count > 32 else { return false }
            let classical =
                (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey[..<32]).isValidSignature(signature[..<64], for: message)) ?? false
            let quantum = (try? MLDSA65.PublicKey(rawRepresentation: publicKey[32...]).isValidSignature(signature[64...], for: message)) ?? false
            return classical && quantum
        default:
            return false
        }
    }

    /// The raw public key of an asymmetric version (hybrid: Ed25519 ‖ ML-DSA-65).
    public static func publicKey(type: TransitKeyType, material: [UInt8]) throws -> [UInt8] {
        switch type {
        case .ed25519: return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: material).publicKey.rawRepresentation)
        case .ecdsaP256: return Array(try P256.Signing.PrivateKey(rawRepresentation: material).publicKey.rawRepresentation)
        case .mlDSA65: return Array(try MLDSA65.PrivateKey(seedRepresentation: material, publicKey: nil).publicKey.rawRepresentation)
        case .mlKEM768: return Array(try MLKEM768.PrivateKey(seedRepresentation: material, publicKey: nil).publicKey.rawRepresentation)
        case .xWing: return Array(try XWingMLKEM768X25519.PrivateKey(seedRepresentation: material, publicKey: nil).publicKey.rawRepresentation)
        case .ed25519MLDSA65:
            return try publicKey(type: .ed25519, material: Array(material[..<32])) + publicKey(type: .mlDSA65, material: Array(material[32...]))
        default: throw CofferError(.invalidRequest, "a \(type.rawValue) key has no public part")
        }
    }

    /// HMAC-SHA256 of `message` under the version's HMAC key.
    public static func hmac(_ message: [UInt8], material: [UInt8]) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: material), info: hmacInfo, outputByteCount: 32)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}

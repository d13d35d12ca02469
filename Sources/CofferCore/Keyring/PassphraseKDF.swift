import Crypto
import CryptoExtras

/// Stretching a root passphrase into a root key. The salt and parameters are stored; the result never is.
public struct PassphraseKDF: Sendable, Codable, Hashable {
    /// Which KDF was used.
    public enum Algorithm: String, Sendable, Codable {
        /// Argon2id from libargon2 (preferred).
        case argon2id
        /// PBKDF2-HMAC-SHA512 from swift-crypto (documented fallback).
        case pbkdf2SHA512 = "pbkdf2-sha512"
    }

    /// The algorithm.
    public var algorithm: Algorithm
    /// Random 16-byte salt, base64.
    public var salt: String
    /// Argon2id parameters when `algorithm == .argon2id`.
    public var argon2: Argon2id?
    /// PBKDF2 rounds when `algorithm == .pbkdf2SHA512`.
    public var rounds: Int?

    /// Fresh parameters with a random salt.
    public static func generate(_ algorithm: Algorithm) -> PassphraseKDF {
        PassphraseKDF(
            algorithm: algorithm,
            salt: Base64.encode(SecureRandom.bytes(16)),
            argon2: algorithm == .argon2id ? .default : nil,
            rounds: algorithm == .pbkdf2SHA512 ? 600_000 : nil
        )
    }

    /// Derives the 32-byte root key.
    public func deriveKey(passphrase: [UInt8]) throws(CofferError) -> [UInt8] {
        guard let saltBytes = Base64.decode(salt) else {
            throw CofferError(.configInvalid, "stored KDF salt is malformed")
        }
        switch algorithm {
        case .argon2id:
            return try (argon2 ?? .default).derive(password: passphrase, salt: saltBytes)
        case .pbkdf2SHA512:
            do {
                let key = try KDF.Insecure.PBKDF2.deriveKey(
                    from: passphrase, salt: saltBytes, using: .sha512, outputByteCount: 32, rounds: rounds ?? 600_000)
                return key.withUnsafeBytes { Array($0) }
            } catch {
                throw CofferError(.configInvalid, "PBKDF2 parameters are invalid")
            }
        }
    }
}

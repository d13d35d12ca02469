import Foundation

/// Where the root key comes from, read from the environment (`COFFER_ROOT_KEY`,
/// `COFFER_ROOT_KEY_FILE` or `COFFER_ROOT_PASSPHRASE`).
public enum RootKeySource: Sendable {
    /// Raw key bytes (from `COFFER_ROOT_KEY` or a key file).
    case key([UInt8], origin: String)
    /// A passphrase to stretch with the stored KDF parameters.
    case passphrase([UInt8], kdf: PassphraseKDF.Algorithm)

    /// Reads the source from an environment dictionary. Messages name the variable, never its value.
    public static func fromEnvironment(_ environment: [String: String]) throws(CofferError) -> RootKeySource {
        if let value = environment["COFFER_ROOT_KEY"], !value.isEmpty {
            guard let bytes = Base64.decode(value), bytes.count == 32 else {
                throw CofferError(.rootKeyInvalid, "COFFER_ROOT_KEY must be the base64 encoding of exactly 32 bytes")
            }
            return .key(bytes, origin: "COFFER_ROOT_KEY")
        }
        if let path = environment["COFFER_ROOT_KEY_FILE"], !path.isEmpty {
            return .key(try readKeyFile(path), origin: "COFFER_ROOT_KEY_FILE")
        }
        if let passphrase = environment["COFFER_ROOT_PASSPHRASE"], !passphrase.isEmpty {
            guard passphrase.utf8.count >= 12 else {
                throw CofferError(.rootKeyInvalid, "COFFER_ROOT_PASSPHRASE must be at least 12 characters")
            }
            let kdf: PassphraseKDF.Algorithm
            switch environment["COFFER_ROOT_KDF"] ?? "argon2id" {
            case "argon2id": kdf = .argon2id
            case "pbkdf2-sha512": kdf = .pbkdf2SHA512
            default: throw CofferError(.configInvalid, "COFFER_ROOT_KDF must be argon2id or pbkdf2-sha512")
            }
            return .passphrase(Array(passphrase.utf8), kdf: kdf)
        }
        throw CofferError(
            .rootKeyInvalid,
            "no root key: set COFFER_ROOT_KEY (base64 of 32 bytes), COFFER_ROOT_KEY_FILE (a 0600 file) or COFFER_ROOT_PASSPHRASE"
        )
    }

    /// Reads a base64 key file, refusing files that group or others can read or write.
    public static func readKeyFile(_ path: String) throws(CofferError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CofferError(.rootKeyInvalid, "COFFER_ROOT_KEY_FILE \(path) cannot be read")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw CofferError(
                .rootKeyInvalid,
                "COFFER_ROOT_KEY_FILE \(path) has mode \(String(mode, radix: 8)); it must be 0600 (owner only)")
        }
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8),
            let bytes = Base64.decode(text), bytes.count == 32
        else {
            throw CofferError(.rootKeyInvalid, "COFFER_ROOT_KEY_FILE \(path) must hold the base64 encoding of exactly 32 bytes")
        }
        return bytes
    }
}

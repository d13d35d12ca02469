/// Coffer API keys: `sk_live_` (production tenants), `sk_test_` (other tenants) or `sk_admin_`
/// (admin keys), then 256 random bits as 43 base62 characters, then a 6-character base62 CRC-32 of
/// everything before it. Scanners can match ``pattern`` and check the checksum offline.
public enum APIKeyFormat {
    /// The three key kinds.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Production tenant keys.
        case live
        /// Keys of development and staging tenants.
        case test
        /// Admin-role keys.
        case admin

        /// The key's prefix, e.g. `sk_live_`.
        public var prefix: String { "sk_\(rawValue)_" }

        /// The kind for a tenant environment and role.
        public static func forTenant(_ environment: TenantEnvironment, admin: Bool) -> Kind {
            admin ? .admin : (environment == .production ? .live : .test)
        }
    }

    /// Length of the random part.
    public static let bodyLength = 43
    /// Length of the checksum.
    public static let checksumLength = 6
    /// The regular expression for secret scanners (gitleaks/trufflehog style).
    public static let pattern = #"\bsk_(live|test|admin)_[0-9A-Za-z]{43}[0-9A-Za-z]{6}\b"#

    /// A fresh key of `kind`.
    public static func generate(_ kind: Kind) -> String {
        let head = kind.prefix + Base62.encode(SecureRandom.bytes(32), minLength: bodyLength)
        return head + checksum(of: head)
    }

    /// The checksum characters for `head` (prefix and random part).
    public static func checksum(of head: String) -> String {
        Base62.encode(UInt64(CRC32.checksum(head.utf8)), minLength: checksumLength)
    }

    /// Why a string is not a well-formed key.
    public enum Problem: String, Sendable, Equatable {
        /// Not `sk_live_`, `sk_test_` or `sk_admin_`.
        case unknownPrefix
        /// Wrong length or characters outside base62.
        case badShape
        /// The checksum does not match: a typo or a fake.
        case badChecksum
    }

    /// Checks a key offline: its kind, or the problem. Works on the UTF-8 bytes (it runs on every verify).
    public static func check(_ key: String) -> Result<Kind, CheckError> {
        var key = key
        return key.withUTF8 { bytes in
            guard let kind = kind(of: bytes) else { return .failure(CheckError(problem: .unknownPrefix)) }
            let prefixLength = kind.rawValue.utf8.count + 4
            guard bytes.count == prefixLength + bodyLength + checksumLength,
                bytes[prefixLength...].allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
            else { return .failure(CheckError(problem: .badShape)) }
            let headLength = bytes.count - checksumLength
            var expected = UInt64(CRC32.checksum(UnsafeBufferPointer(rebasing: bytes[..<headLength])))
            var difference: UInt8 = 0
            for position in stride(from: bytes.count - 1, through: headLength, by: -1) {
                difference |= Base62.alphabet[Int(expected % 62)] ^ bytes[position]
                expected /= 62
            }
            guard difference == 0, expected == 0 else { return .failure(CheckError(problem: .badChecksum)) }
            return .success(kind)
        }
    }

    /// The kind named by the key's prefix (`sk_live_`, `sk_test_`, `sk_admin_`), if any.
    static func kind(of bytes: UnsafeBufferPointer<UInt8>) -> Kind? {
        guard bytes.count >= 8, bytes[0] == UInt8(ascii: "s"), bytes[1] == UInt8(ascii: "k"), bytes[2] == UInt8(ascii: "_") else { return nil }
        for kind in Kind.allCases {
            let name = kind.rawValue.utf8
            let end = 3 + name.count
            if bytes.count > end, bytes[end] == UInt8(ascii: "_"), bytes[3..<end].elementsEqual(name) { return kind }
        }
        return nil
    }

    /// A failed offline check.
    public struct CheckError: Error, Sendable, Equatable {
        /// What is wrong.
        public let problem: Problem
    }

    /// What may be shown of a key: its prefix and the first four random characters, e.g. `sk_live_AbC1…`.
    public static func displayPrefix(_ key: String) -> String {
        guard let kind = Kind.allCases.first(where: { key.hasPrefix($0.prefix) }) else { return "" }
        return kind.prefix + String(key.dropFirst(kind.prefix.count).prefix(4)) + "…"
    }
}

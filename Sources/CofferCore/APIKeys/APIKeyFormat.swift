/// Coffer API keys: `sk_live_` (production tenants), `sk_test_` (other tenants) or `sk_admin_`
/// (admin keys), and the publishable `pk_live_` / `pk_test_` keys browsers use for the gateway; then
/// 256 random bits as 43 base62 characters, then a 6-character base62 CRC-32 of everything before it.
/// Scanners can match ``pattern`` (and ``publishablePattern``) and check the checksum offline.
public enum APIKeyFormat {
    /// The key kinds.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// Production tenant keys.
        case live
        /// Keys of development and staging tenants.
        case test
        /// Admin-role keys.
        case admin
        /// Publishable keys of production tenants: only for gateway calls from an allowed browser origin.
        case publishableLive = "publishable_live"
        /// Publishable keys of development and staging tenants.
        case publishableTest = "publishable_test"

        /// The key's prefix, e.g. `sk_live_` or `pk_test_`.
        public var prefix: String {
            switch self {
            case .live: "sk_live_"
            case .test: "sk_test_"
            case .admin: "sk_admin_"
            case .publishableLive: "pk_live_"
            case .publishableTest: "pk_test_"
            }
        }

        /// Whether this is a publishable (`pk_`) key.
        public var isPublishable: Bool { self == .publishableLive || self == .publishableTest }

        /// The publishable kind for a tenant environment.
        public static func publishable(for environment: TenantEnvironment) -> Kind {
            environment == .production ? .publishableLive : .publishableTest
        }

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
    /// The same for publishable keys.
    public static let publishablePattern = #"\bpk_(live|test)_[0-9A-Za-z]{43}[0-9A-Za-z]{6}\b"#

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
            let prefixLength = kind.prefix.utf8.count
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

    /// The kind named by the key's prefix (`sk_live_`, `sk_test_`, `sk_admin_`, `pk_live_`, `pk_test_`), if any.
    static func kind(of bytes: UnsafeBufferPointer<UInt8>) -> Kind? {
        guard bytes.count >= 8, bytes[1] == UInt8(ascii: "k"), bytes[2] == UInt8(ascii: "_") else { return nil }
        for kind in Kind.allCases {
            let prefix = kind.prefix.utf8
            if bytes.count >= prefix.count, bytes[..<prefix.count].elementsEqual(prefix) { return kind }
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

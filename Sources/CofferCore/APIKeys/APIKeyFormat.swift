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

    /// Checks a key offline: its kind, or the problem.
    public static func check(_ key: String) -> Result<Kind, CheckError> {
        guard let kind = Kind.allCases.first(where: { key.hasPrefix($0.prefix) }) else { return .failure(CheckError(problem: .unknownPrefix)) }
        let rest = key.dropFirst(kind.prefix.count)
        guard rest.utf8.count == bodyLength + checksumLength, Base62.isValid(rest) else { return .failure(CheckError(problem: .badShape)) }
        let head = String(key.dropLast(checksumLength))
        guard ConstantTime.equals(Array(checksum(of: head).utf8), Array(key.suffix(checksumLength).utf8)) else {
            return .failure(CheckError(problem: .badChecksum))
        }
        return .success(kind)
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

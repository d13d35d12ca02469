/// Finds Coffer credentials in text: API keys (`sk_live_`, `sk_test_`, `sk_admin_`) and publishable keys
/// (`pk_live_`, `pk_test_`) only when their CRC-32 checksum holds — a random string of the right shape
/// is not reported — and tokens (`cft_`) and AppRole secret IDs (`cfs_`) by their exact shape (prefix,
/// 43 base62 characters, word boundaries either side). Pure and byte-oriented: no regular expressions,
/// any input (binary included) is scanned in one pass and never crashes it.
public enum LeakScanner {
    /// What was found.
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// A secret API key (`sk_…`), checksum valid.
        case apiKey = "api_key"
        /// A publishable key (`pk_…`), checksum valid: meant for browsers, but a key all the same.
        case publishableKey = "publishable_key"
        /// A Coffer token (`cft_…`).
        case token
        /// An AppRole secret ID (`cfs_…`).
        case secretID = "secret_id"

        /// A short description for reports.
        public var title: String {
            switch self {
            case .apiKey: "Coffer API key"
            case .publishableKey: "Coffer publishable key"
            case .token: "Coffer token"
            case .secretID: "Coffer AppRole secret ID"
            }
        }
    }

    /// One credential found, with where it starts (1-based line and column, in bytes).
    public struct Finding: Sendable, Equatable {
        /// The kind.
        public var kind: Kind
        /// The credential itself (for revocation; never print it: use ``masked``).
        public var value: String
        /// 1-based line.
        public var line: Int
        /// 1-based column (in bytes).
        public var column: Int

        /// What may be shown: the prefix and the last four characters, e.g. `sk_live_…Xy12`.
        public var masked: String { LeakScanner.mask(value) }
    }

    /// The prefix of `value` (`sk_live_`, `cft_`, …) and its last four characters.
    public static func mask(_ value: String) -> String {
        let prefix =
            APIKeyFormat.Kind.allCases.map(\.prefix).first { value.hasPrefix($0) }
            ?? [tokenPrefix, secretIDPrefix].first { value.hasPrefix($0) } ?? ""
        return prefix + "…" + String(value.suffix(4))
    }

    /// The prefix of tokens (``AccessToken/prefix``; kept here so the scanner stands alone).
    public static let tokenPrefix = "cft_"

    /// The prefix of AppRole secret IDs.
    public static let secretIDPrefix = "cfs_"

    /// Length of a token's or secret ID's random part.
    static let randomLength = 43

    /// Every credential in `bytes`, in order.
    public static func scan(_ bytes: [UInt8]) -> [Finding] {
        var findings: [Finding] = []
        var line = 1
        var lineStart = 0
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A {
                line += 1
                lineStart = index + 1
                index += 1
                continue
            }
            // Candidates start with s, p or c after a non-word byte.
            guard byte == UInt8(ascii: "s") || byte == UInt8(ascii: "p") || byte == UInt8(ascii: "c"),
                index == 0 || !isWord(bytes[index - 1])
            else {
                index += 1
                continue
            }
            // The whole word: base62 and underscores.
            var end = index
            while end < count, isWord(bytes[end]) { end += 1 }
            if let kind = classify(bytes[index..<end]) {
                findings.append(
                    Finding(kind: kind, value: String(decoding: bytes[index..<end], as: UTF8.self), line: line, column: index - lineStart + 1))
            }
            index = max(end, index + 1)
        }
        return findings
    }

    /// The kind of a whole word, if it is a Coffer credential.
    static func classify(_ word: ArraySlice<UInt8>) -> Kind? {
        if word.starts(with: tokenPrefix.utf8) { return isRandomPart(word.dropFirst(4)) ? .token : nil }
        if word.starts(with: secretIDPrefix.utf8) { return isRandomPart(word.dropFirst(4)) ? .secretID : nil }
        guard word.count <= 64, case .success(let kind) = APIKeyFormat.check(String(decoding: word, as: UTF8.self)) else { return nil }
        return kind.isPublishable ? .publishableKey : .apiKey
    }

    static func isRandomPart(_ part: ArraySlice<UInt8>) -> Bool {
        part.count == randomLength && part.allSatisfy { isBase62($0) }
    }

    static func isBase62(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte)
    }

    static func isWord(_ byte: UInt8) -> Bool { isBase62(byte) || byte == UInt8(ascii: "_") }
}

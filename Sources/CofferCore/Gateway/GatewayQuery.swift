import Foundation

/// The query string of a proxied call, decoded strictly.
public enum GatewayQuery {
    /// Splits `a=1&b=2` (form encoding: `+` is a space) into decoded pairs; `INVALID_REQUEST` on bad
    /// percent-encoding or control characters.
    public static func pairs(_ raw: String?) throws(CofferError) -> [(String, String)] {
        guard let raw, !raw.isEmpty else { return [] }
        var pairs: [(String, String)] = []
        for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(pieces[0]), let value = decode(pieces.count > 1 ? pieces[1] : "") else {
                throw CofferError(.invalidRequest, "the query string is not valid percent-encoding")
            }
            guard GatewayHeaders.isSafeValue(name), GatewayHeaders.isSafeValue(value) else {
                throw CofferError(.invalidRequest, "the query string holds control characters")
            }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

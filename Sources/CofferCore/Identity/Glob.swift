/// Vault's glob patterns for names and claims: `*` matches any run of characters (none included);
/// everything else matches its own bytes (no case folding, no Unicode normalisation).
public enum Glob {
    /// Whether `value` matches `pattern`.
    public static func matches(_ pattern: String, _ value: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map { Array($0.utf8) }
        var rest = Array(value.utf8)[...]
        guard let first = parts.first, rest.starts(with: first) else { return false }
        rest = rest.dropFirst(first.count)
        if parts.count == 1 { return rest.isEmpty }
        for part in parts.dropFirst().dropLast() {
            guard let range = firstRange(of: part, in: rest) else { return false }
            rest = rest[range.upperBound...]
        }
        let last = parts[parts.count - 1]
        return rest.count >= last.count && rest.suffix(last.count).elementsEqual(last)
    }

    static func firstRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Range<Int>? {
        if needle.isEmpty { return haystack.startIndex..<haystack.startIndex }
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index..<(index + needle.count) }
            index += 1
        }
        return nil
    }
}

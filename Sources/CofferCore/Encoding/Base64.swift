import Foundation

/// Standard base64 helpers that never trap on bad input.
public enum Base64 {
    /// Encodes bytes as standard padded base64.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes standard base64 (padding optional, surrounding whitespace ignored); `nil` if invalid.
    /// Works on the UTF-8 bytes: it runs on every transit request, on values of many kilobytes.
    public static func decode(_ text: String) -> [UInt8]? {
        let bytes = Array(text.utf8)
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        var start = 0
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        var trimmed = Data(bytes[start..<end])
        switch trimmed.count % 4 {
        case 2: trimmed.append(contentsOf: [61, 61])
        case 3: trimmed.append(61)
        default: break
        }
        guard let data = Data(base64Encoded: trimmed) else { return nil }
        return Array(data)
    }

    /// Encodes bytes as base64url without padding (RFC 4648 §5).
    public static func encodeURL(_ bytes: some Collection<UInt8>) -> String {
        var text = Array(encode(bytes).utf8)
        while text.last == UInt8(ascii: "=") { text.removeLast() }
        for index in text.indices {
            if text[index] == UInt8(ascii: "+") {
                text[index] = UInt8(ascii: "-")
            } else if text[index] == UInt8(ascii: "/") {
                text[index] = UInt8(ascii: "_")
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Decodes canonical base64url without padding; `nil` for anything else (padding, the standard alphabet,
    /// whitespace, or stray low bits that another encoder would not produce), so one value has one encoding.
    public static func decodeURL(_ text: String) -> [UInt8]? {
        guard text.utf8.count % 4 != 1,
            text.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 })
        else { return nil }
        let standard = String(decoding: text.utf8.map { $0 == 45 ? UInt8(ascii: "+") : ($0 == 95 ? UInt8(ascii: "/") : $0) }, as: UTF8.self)
        guard let bytes = decode(standard), encodeURL(bytes) == text else { return nil }
        return bytes
    }
}

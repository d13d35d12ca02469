import Foundation

/// Standard base64 helpers that never trap on bad input.
public enum Base64 {
    /// Encodes bytes as standard padded base64.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes standard base64 (padding optional, surrounding whitespace ignored); `nil` if invalid.
    public static func decode(_ text: String) -> [UInt8]? {
        var trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let remainder = trimmed.count % 4
        if remainder == 2 { trimmed += "==" } else if remainder == 3 { trimmed += "=" }
        guard let data = Data(base64Encoded: trimmed) else { return nil }
        return Array(data)
    }
}

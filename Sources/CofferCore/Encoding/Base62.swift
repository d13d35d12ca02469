/// Base62 (`0-9A-Za-z`) encoding of byte strings, as used by Coffer's tokens and API keys.
public enum Base62 {
    /// The alphabet in digit order.
    public static let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Encodes `bytes` as a big-endian base62 number, left-padded with `0` to `minLength`.
    public static func encode(_ bytes: [UInt8], minLength: Int = 0) -> String {
        var digits: [UInt8] = []
        var number = bytes.drop(while: { $0 == 0 }).map { UInt32($0) }
        while !number.isEmpty {
            var remainder: UInt32 = 0
            var quotient: [UInt32] = []
            quotient.reserveCapacity(number.count)
            for byte in number {
                let accumulator = remainder << 8 | byte
                let q = accumulator / 62
                remainder = accumulator % 62
                if !quotient.isEmpty || q != 0 { quotient.append(q) }
            }
            digits.append(alphabet[Int(remainder)])
            number = quotient
        }
        while digits.count < minLength { digits.append(alphabet[0]) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// Encodes an unsigned integer, left-padded with `0` to `minLength`.
    public static func encode(_ value: UInt64, minLength: Int) -> String {
        var value = value
        var digits: [UInt8] = []
        repeat {
            digits.append(alphabet[Int(value % 62)])
            value /= 62
        } while value > 0
        while digits.count < minLength { digits.append(alphabet[0]) }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }

    /// Whether every character of `text` is in the base62 alphabet.
    public static func isValid(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }
}

/// A JSON number kept as the literal text the client wrote, so that a value is stored and returned
/// exactly: `12345678901234567`, `0.1000000000000000055511151231257827`, `-0` and `1e400` all come back
/// byte for byte (Vault keeps Go's `json.Number` for the same reason). Arithmetic never goes through
/// the literal; callers ask for ``int64Value`` or ``doubleValue`` when they need a number.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The RFC 8259 number text.
    public let literal: String

    /// A number from text; `nil` unless it is exactly one RFC 8259 number (no leading `+`, no leading
    /// zeros, no `.5`, no `1.`, no hex, no `NaN`/`Infinity`).
    public init?(literal: String) {
        guard Self.isValid(Array(literal.utf8)) else { return nil }
        self.literal = literal
    }

    /// Text the JSON parser has already matched against the grammar.
    init(validated literal: String) { self.literal = literal }

    /// An integer.
    public init(_ value: Int64) { literal = String(value) }

    /// An integer.
    public init(_ value: Int) { literal = String(value) }

    /// A floating-point number written in its shortest round-trip form, whole values without a
    /// fraction (`3`, not `3.0`). `nil` for NaN and infinities, which JSON cannot carry.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            literal = value == 0 && value.sign == .minus ? "-0" : String(Int64(value))
        } else {
            literal = "\(value)"
        }
    }

    /// The text.
    public var description: String { literal }

    /// The exact integer this literal denotes, if it is one that fits in 64 bits: `12`, `-3`, and also
    /// `1.0` or `2e3`, which denote whole numbers. `nil` for `1.5`, `1e400` or anything past `Int64`.
    public var int64Value: Int64? {
        if let exact = Int64(literal) { return exact }
        guard literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
            let value = Double(literal), value.isFinite, value.rounded() == value, abs(value) < 9_007_199_254_740_992
        else { return nil }
        return Int64(value)
    }

    /// The nearest double, if finite (`1e400` is not).
    public var doubleValue: Double? {
        guard let value = Double(literal), value.isFinite else { return nil }
        return value
    }

    /// Whether `bytes` are exactly one JSON number.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        var index = 0
        return scan(bytes, &index) && index == bytes.count
    }

    /// Advances `index` over a number starting there; `false` if the grammar is broken.
    static func scan(_ bytes: [UInt8], _ index: inout Int) -> Bool {
        func digits() -> Int {
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return false }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return false }
        }
        return true
    }
}

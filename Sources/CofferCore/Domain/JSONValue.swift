import Foundation

/// Any JSON value; used for KV secret data, which is an arbitrary JSON object. Numbers keep the
/// literal text they were written with (see ``JSONNumber``), so stored values round-trip exactly.
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number, as its literal text.
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object.
    case object([String: JSONValue])

    /// The object's members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as an integer, if it is a whole number that fits in 64 bits or a numeric string.
    public var intValue: Int? {
        switch self {
        case .number(let value): return value.int64Value.map { Int($0) }
        case .string(let value): return Int(value)
        default: return nil
        }
    }

    /// The value as a boolean, accepting `"true"`/`"false"` strings as Vault does.
    public var boolValue: Bool? {
        switch self {
        case .bool(let value): return value
        case .string("true"): return true
        case .string("false"): return false
        default: return nil
        }
    }

    /// Canonical bytes: keys sorted by their UTF-8 bytes, no whitespace, numbers as written,
    /// strings escaped as RFC 8259 requires (`"`, `\\` and control characters only).
    public func canonicalBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [110, 117, 108, 108])
        case .bool(let value): out.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .number(let value): out.append(contentsOf: value.literal.utf8)
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Indented JSON for people (two spaces, keys sorted by their UTF-8 bytes), numbers as written.
    public func prettyBytes() -> [UInt8] {
        var out: [UInt8] = []
        writePretty(to: &out, indent: 0)
        return out
    }

    private func writePretty(to out: inout [UInt8], indent: Int) {
        func newline(_ level: Int) {
            out.append(0x0a)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch self {
        case .array(let items) where !items.isEmpty:
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                item.writePretty(to: &out, indent: indent + 1)
            }
            newline(indent)
            out.append(UInt8(ascii: "]"))
        case .object(let members) where !members.isEmpty:
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                Self.writeString(key, to: &out)
                out.append(contentsOf: [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: " ")])
                members[key]?.writePretty(to: &out, indent: indent + 1)
            }
            newline(indent)
            out.append(UInt8(ascii: "}"))
        default:
            write(to: &out)
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes a JSON string: runs of bytes that need no escape are copied at once (long base64
    /// values are the common case), the rest escaped one by one.
    static func writeString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
                if start < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
                out.append(92)
                switch byte {
                case UInt8(ascii: "\""): out.append(34)
                case UInt8(ascii: "\\"): out.append(92)
                case 0x0a: out.append(110)
                case 0x0d: out.append(114)
                case 0x09: out.append(116)
                default:
                    out.append(117)
                    out.append(48)
                    out.append(48)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0f)])
                }
                start = index + 1
            }
            if start < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses bytes as JSON; `nil` if they are not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        JSONParser.parse(Array(bytes))
    }
}

/// Writes one JSON object field by field, in the order given (no dictionary, no sorting): for
/// hot responses whose shape is fixed.
public struct JSONObjectWriter {
    /// The bytes so far.
    public private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    /// Starts an object.
    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends `"name": value`.
    public mutating func field(_ name: String, _ value: JSONValue) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        JSONValue.writeString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        value.write(to: &bytes)
    }

    /// The finished object.
    public func finish() -> [UInt8] { bytes + [UInt8(ascii: "}")] }
}

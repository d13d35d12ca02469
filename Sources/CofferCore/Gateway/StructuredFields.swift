/// The part of Structured Field Values (RFC 8941) that HTTP Message Signatures use: a dictionary
/// whose members are items or inner lists, with parameters. Strict: anything else is refused (nil).
/// Each member keeps the exact text it was sent as, which RFC 9421 signs as `@signature-params`.
public enum StructuredFields {
    /// A bare item.
    public enum Item: Sendable, Equatable {
        /// `42`, `-7`
        case integer(Int64)
        /// `"text"`
        case string(String)
        /// `sha-256`, `*foo`
        case token(String)
        /// `:base64:`
        case bytes([UInt8])
        /// `?1`, `?0`
        case boolean(Bool)
    }

    /// A dictionary member.
    public struct Member: Sendable, Equatable {
        /// The item, when the member is not an inner list.
        public var item: Item?
        /// The inner list's items (each with its own parameters), when it is one.
        public var list: [(Item, [(String, Item)])]?
        /// The member's parameters.
        public var parameters: [(String, Item)]
        /// The member's value and parameters exactly as sent.
        public var raw: String

        /// A parameter's value.
        public func parameter(_ name: String) -> Item? { parameters.first { $0.0 == name }?.1 }

        /// Equality on item, list, parameters and raw text.
        public static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.raw == rhs.raw && lhs.item == rhs.item && lhs.parameters.map(\.0) == rhs.parameters.map(\.0)
                && lhs.parameters.map(\.1) == rhs.parameters.map(\.1) && (lhs.list?.map(\.0) ?? []) == (rhs.list?.map(\.0) ?? [])
        }
    }

    /// Parses a dictionary field value (at most 8 KiB); nil when it is not one.
    public static func dictionary(_ text: String) -> [(String, Member)]? {
        let bytes = Array(text.utf8)
        guard bytes.count <= 8192 else { return nil }
        var parser = Parser(bytes: bytes)
        return parser.dictionary()
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }
        mutating func skipOWS() { while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 } }

        mutating func dictionary() -> [(String, Member)]? {
            var members: [(String, Member)] = []
            skipSpaces()
            while index < bytes.count {
                guard let key = key() else { return nil }
                let start = index
                var member: Member
                if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
                    index += 1
                    let valueStart = index
                    if index < bytes.count, bytes[index] == UInt8(ascii: "(") {
                        guard let list = innerList(), let parameters = parameters() else { return nil }
                        member = Member(item: nil, list: list, parameters: parameters, raw: text(valueStart, index))
                    } else {
                        guard let item = item(), let parameters = parameters() else { return nil }
                        member = Member(item: item, list: nil, parameters: parameters, raw: text(valueStart, index))
                    }
                } else {
                    guard let parameters = parameters() else { return nil }
                    member = Member(item: .boolean(true), list: nil, parameters: parameters, raw: text(start, index))
                }
                guard !members.contains(where: { $0.0 == key }), members.count < 64 else { return nil }
                members.append((key, member))
                skipOWS()
                if index >= bytes.count { return members }
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
                skipOWS()
                guard index < bytes.count else { return nil }
            }
            return members
        }

        func text(_ start: Int, _ end: Int) -> String { String(decoding: bytes[start..<end], as: UTF8.self) }

        mutating func key() -> String? {
            guard index < bytes.count, (0x61...0x7a).contains(bytes[index]) || bytes[index] == UInt8(ascii: "*") else { return nil }
            let start = index
            while index < bytes.count,
                (0x61...0x7a).contains(bytes[index]) || (0x30...0x39).contains(bytes[index]) || "_-.*".utf8.contains(bytes[index])
            {
                index += 1
            }
            return index - start <= 64 ? text(start, index) : nil
        }

        mutating func innerList() -> [(Item, [(String, Item)])]? {
            index += 1
            var items: [(Item, [(String, Item)])] = []
            while index < bytes.count {
                skipSpaces()
                if index < bytes.count, bytes[index] == UInt8(ascii: ")") {
                    index += 1
                    return items
                }
                guard let item = item(), let parameters = parameters(), items.count < 64 else { return nil }
                items.append((item, parameters))
                guard index < bytes.count, bytes[index] == 0x20 || bytes[index] == UInt8(ascii: ")") else { return nil }
            }
            return nil
        }

        mutating func parameters() -> [(String, Item)]? {
            var parameters: [(String, Item)] = []
            while index < bytes.count, bytes[index] == UInt8(ascii: ";") {
                index += 1
                skipSpaces()
                guard let key = key() else { return nil }
                var value = Item.boolean(true)
                if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
                    index += 1
                    guard let item = item() else { return nil }
                    value = item
                }
                guard !parameters.contains(where: { $0.0 == key }), parameters.count < 32 else { return nil }
                parameters.append((key, value))
            }
            return parameters
        }

        mutating func item() -> Item? {
            guard index < bytes.count else { return nil }
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                var out: [UInt8] = []
                while index < bytes.count {
                    let c = bytes[index]
                    index += 1
                    if c == UInt8(ascii: "\\") {
                        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") else { return nil }
                        out.append(bytes[index])
                        index += 1
                    } else if c == UInt8(ascii: "\"") {
                        return .string(String(decoding: out, as: UTF8.self))
                    } else {
                        guard (0x20...0x7e).contains(c) else { return nil }
                        out.append(c)
                    }
                }
                return nil
            case UInt8(ascii: ":"):
                index += 1
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                    guard Self.isBase64(bytes[index]) else { return nil }
                    index += 1
                }
                guard index < bytes.count else { return nil }
                let encoded = text(start, index)
                index += 1
                guard let decoded = Base64.decode(encoded) else { return nil }
                return .bytes(decoded)
            case UInt8(ascii: "?"):
                guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "0") || bytes[index + 1] == UInt8(ascii: "1") else { return nil }
                index += 2
                return .boolean(bytes[index - 1] == UInt8(ascii: "1"))
            case UInt8(ascii: "-"), 0x30...0x39:
                let start = index
                if byte == UInt8(ascii: "-") { index += 1 }
                let digitsStart = index
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
                guard index > digitsStart, index - digitsStart <= 15, index >= bytes.count || bytes[index] != UInt8(ascii: ".") else { return nil }
                return Int64(text(start, index)).map(Item.integer)
            default:
                guard (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || byte == UInt8(ascii: "*") else { return nil }
                let start = index
                while index < bytes.count, Self.isTokenByte(bytes[index]) { index += 1 }
                return .token(text(start, index))
            }
        }

        static func isBase64(_ byte: UInt8) -> Bool {
            (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
        }

        static func isTokenByte(_ byte: UInt8) -> Bool {
            (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || "!#$%&'*+-.^_`|~:/".utf8.contains(byte)
        }
    }
}

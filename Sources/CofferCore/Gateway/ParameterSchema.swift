/// A subset of JSON Schema (draft 2020-12) for gateway parameters and bodies: `type`, `enum`, `const`,
/// `minLength`, `maxLength`, `minimum`, `maximum`, `properties`, `required`, `additionalProperties`
/// (a boolean; **false unless set**, so an undeclared field is refused), `items`, `minItems`,
/// `maxItems`, plus `description` and `title` (ignored). Any other keyword is refused when the schema
/// is saved, so nothing a schema says is silently skipped.
public indirect enum ParameterSchema: Sendable, Equatable {
    /// A schema node.
    case node(Node)

    /// The keywords of one schema.
    public struct Node: Sendable, Equatable {
        /// `string`, `integer`, `number`, `boolean`, `object`, `array` or `null`; nil = any.
        public var type: String?
        /// Allowed values.
        public var allowed: [JSONValue]?
        /// String length bounds, in Unicode scalars.
        public var minLength: Int?
        /// Upper string length bound.
        public var maxLength: Int?
        /// Numeric bounds, as written.
        public var minimum: JSONNumber?
        /// Upper numeric bound.
        public var maximum: JSONNumber?
        /// Object members.
        public var properties: [String: ParameterSchema] = [:]
        /// Required members.
        public var required: [String] = []
        /// Whether members not in `properties` are allowed (default false).
        public var additionalProperties = false
        /// Array items.
        public var items: ParameterSchema?
        /// Array length bounds.
        public var minItems: Int?
        /// Upper array length bound.
        public var maxItems: Int?
        /// The schema as written, for reading back.
        public var source: JSONValue = .object([:])
    }

    static let types: Set<String> = ["string", "integer", "number", "boolean", "object", "array", "null"]

    /// Parses a schema; unknown keywords and malformed values are `INVALID_REQUEST` naming `path`.
    public static func parse(_ value: JSONValue, path: String, depth: Int = 0) throws(CofferError) -> ParameterSchema {
        guard depth < 16 else { throw CofferError(.invalidRequest, "'\(path)' nests too deeply (at most 16 levels)") }
        var reader = try StrictObject(value, path: path)
        var node = Node()
        node.source = value
        if let type = try reader.string("type") {
            guard types.contains(type) else {
                throw CofferError(.invalidRequest, "'\(path).type' must be one of \(types.sorted().joined(separator: ", "))")
            }
            node.type = type
        }
        if let allowed = reader.value("enum") {
            guard case .array(let items) = allowed, !items.isEmpty else {
                throw CofferError(.invalidRequest, "'\(path).enum' must be a non-empty array")
            }
            node.allowed = items
        }
        if let constant = reader.value("const") { node.allowed = [constant] }
        node.minLength = try reader.int("minLength", in: 0...1_000_000)
        node.maxLength = try reader.int("maxLength", in: 0...1_000_000)
        node.minimum = try bound(&reader, "minimum", path: path)
        node.maximum = try bound(&reader, "maximum", path: path)
        if let properties = try reader.members("properties") {
            for (name, schema) in properties { node.properties[name] = try parse(schema, path: "\(path).properties.\(name)", depth: depth + 1) }
        }
        node.required = try reader.strings("required") ?? []
        node.additionalProperties = try reader.bool("additionalProperties") ?? false
        if let items = reader.value("items") { node.items = try parse(items, path: "\(path).items", depth: depth + 1) }
        node.minItems = try reader.int("minItems", in: 0...1_000_000)
        node.maxItems = try reader.int("maxItems", in: 0...1_000_000)
        _ = try reader.string("description")
        _ = try reader.string("title")
        try reader.finish()
        return .node(node)
    }

    private static func bound(_ reader: inout StrictObject, _ key: String, path: String) throws(CofferError) -> JSONNumber? {
        guard let value = reader.value(key) else { return nil }
        guard case .number(let number) = value, let double = number.doubleValue, double.isFinite else {
            throw CofferError(.invalidRequest, "'\(path).\(key)' must be a finite number")
        }
        return number
    }

    /// `a` compared with `b`: exactly when both are integers (no rounding through `Double` past 2^53),
    /// else as doubles; nil when either is not a finite number.
    static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int? {
        if let x = a.int64Value, let y = b.int64Value { return x < y ? -1 : (x > y ? 1 : 0) }
        guard let x = a.doubleValue, let y = b.doubleValue, x.isFinite, y.isFinite else { return nil }
        return x < y ? -1 : (x > y ? 1 : 0)
    }

    /// The schema as written.
    public var source: JSONValue {
        guard case .node(let node) = self else { return .null }
        return node.source
    }

    /// Checks a JSON value; the error names `path` (a parameter or field name), never the value.
    public func validate(_ value: JSONValue, path: String) throws(CofferError) {
        guard case .node(let node) = self else { return }
        func fail(_ reason: String) -> CofferError { CofferError(.invalidRequest, "'\(path)' \(reason)") }
        if let type = node.type {
            let matches: Bool =
                switch (type, value) {
                case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array), ("null", .null): true
                case ("number", .number): true
                case ("integer", .number(let number)): number.int64Value != nil
                default: false
                }
            guard matches else { throw fail("must be of type \(type)") }
        }
        if let allowed = node.allowed, !allowed.contains(value) { throw fail("is not one of the allowed values") }
        if case .string(let text) = value {
            let length = text.unicodeScalars.count
            if let minimum = node.minLength, length < minimum { throw fail("must be at least \(minimum) characters") }
            if let maximum = node.maxLength, length > maximum { throw fail("must be at most \(maximum) characters") }
        }
        if case .number(let number) = value {
            // A number too large to compare (1e400) is outside every bound.
            if let minimum = node.minimum, (Self.compare(number, minimum) ?? -1) < 0 { throw fail("must be at least \(minimum)") }
            if let maximum = node.maximum, (Self.compare(number, maximum) ?? 1) > 0 { throw fail("must be at most \(maximum)") }
        }
        if case .object(let members) = value {
            for name in node.required where members[name] == nil { throw CofferError(.invalidRequest, "'\(path).\(name)' is required") }
            for (name, member) in members {
                if let schema = node.properties[name] {
                    try schema.validate(member, path: "\(path).\(name)")
                } else if !node.additionalProperties {
                    throw CofferError(.invalidRequest, "'\(path)' has an undeclared field")
                }
            }
        }
        if case .array(let items) = value {
            if let minimum = node.minItems, items.count < minimum { throw fail("must have at least \(minimum) items") }
            if let maximum = node.maxItems, items.count > maximum { throw fail("must have at most \(maximum) items") }
            if let schema = node.items {
                for (index, item) in items.enumerated() { try schema.validate(item, path: "\(path)[\(index)]") }
            }
        }
    }

    /// Checks a parameter that arrived as text (a path segment or query value): converted to the
    /// schema's type first (`integer`, `number`, `boolean`), then validated.
    public func validate(text: String, path: String) throws(CofferError) -> JSONValue {
        guard case .node(let node) = self else { return .string(text) }
        let value: JSONValue
        switch node.type {
        case "integer", "number":
            guard let parsed = JSONValue.parse(Array(text.utf8)), case .number = parsed else {
                throw CofferError(.invalidRequest, "'\(path)' must be of type \(node.type ?? "number")")
            }
            value = parsed
        case "boolean":
            guard text == "true" || text == "false" else { throw CofferError(.invalidRequest, "'\(path)' must be true or false") }
            value = .bool(text == "true")
        default:
            value = .string(text)
        }
        try validate(value, path: path)
        return value
    }
}

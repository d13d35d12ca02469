extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal.
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    /// A float literal.
    public init(floatLiteral value: Double) { self = JSONNumber(value).map(JSONValue.number) ?? .null }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    /// `nil` as JSON `null`.
    public init(nilLiteral: ()) { self = .null }

    /// An integer.
    public static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    /// An integer.
    public static func int(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }
    /// A string or `null`.
    public static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    /// An array of strings.
    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
    /// A string-to-string object.
    public static func stringMap(_ values: [String: String]) -> JSONValue { .object(values.mapValues(JSONValue.string)) }

    /// The member named `key`, if this is an object.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }
}

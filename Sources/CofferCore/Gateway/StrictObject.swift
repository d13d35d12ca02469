/// Reads a JSON object field by field and refuses what it did not read: every unknown or misspelt
/// field is `INVALID_REQUEST` naming its path, never silently ignored.
public struct StrictObject {
    private let fields: [String: JSONValue]
    private let path: String
    private var read: Set<String> = []

    /// Wraps `value`, which must be an object; `path` names it in errors (`routes.forecast`).
    public init(_ value: JSONValue, path: String) throws(CofferError) {
        guard let fields = value.objectValue else { throw CofferError(.invalidRequest, "'\(path)' must be an object") }
        self.fields = fields
        self.path = path
    }

    private func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, if present and not null.
    public mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    /// An optional string.
    public mutating func string(_ key: String) throws(CofferError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value.stringValue else { throw CofferError(.invalidRequest, "'\(name(key))' must be a string") }
        return text
    }

    /// A required string.
    public mutating func requiredString(_ key: String) throws(CofferError) -> String {
        guard let text = try string(key) else { throw CofferError(.invalidRequest, "'\(name(key))' is required") }
        return text
    }

    /// An optional boolean.
    public mutating func bool(_ key: String) throws(CofferError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw CofferError(.invalidRequest, "'\(name(key))' must be true or false") }
        return flag
    }

    /// An optional integer within `range`.
    public mutating func int(_ key: String, in range: ClosedRange<Int>) throws(CofferError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue, range.contains(number) else {
            throw CofferError(.invalidRequest, "'\(name(key))' must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// An optional array of strings.
    public mutating func strings(_ key: String) throws(CofferError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw CofferError(.invalidRequest, "'\(name(key))' must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw CofferError(.invalidRequest, "'\(name(key))' must be an array of strings") }
            out.append(text)
        }
        return out
    }

    /// An optional object, as its members.
    public mutating func members(_ key: String) throws(CofferError) -> [String: JSONValue]? {
        guard let value = value(key) else { return nil }
        guard let members = value.objectValue else { throw CofferError(.invalidRequest, "'\(name(key))' must be an object") }
        return members
    }

    /// Refuses any field that was not read.
    public func finish() throws(CofferError) {
        if let unknown = fields.keys.sorted().first(where: { !read.contains($0) }) {
            throw CofferError(.invalidRequest, "unknown field '\(name(unknown))'")
        }
    }
}

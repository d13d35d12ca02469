import ArgumentParser
import CofferCore

/// How read commands print: a table for people (the default) or JSON for programs.
public enum ReadFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Aligned `key  value` rows; nested fields as dotted keys; control characters escaped.
    case table
    /// The answer's JSON, pretty-printed with sorted keys.
    case json
}

/// `--format table|json`, on the commands that read.
public struct ReadFormatOption: ParsableArguments {
    /// The chosen format.
    @Option(help: "Output format: table or json.") public var format: ReadFormat = .table
    /// `--json`, kept as a shorthand for `--format json`.
    @Flag(help: .hidden) public var json = false

    /// Creates default options.
    public init() {}

    /// The format in effect.
    public var effective: ReadFormat { json ? .json : format }

    /// Prints `value` as a flattened table or as JSON.
    public func print(_ value: JSONValue) {
        switch effective {
        case .json: Swift.print(Output.pretty(value))
        case .table: Swift.print(Table.render(Table.rows(value)), terminator: "")
        }
    }
}

/// Two-column tables of flattened JSON.
public enum Table {
    /// `(key, value)` rows: object fields as dotted paths in sorted order, arrays of scalars joined with
    /// `, `, other arrays by index.
    public static func rows(_ value: JSONValue, prefix: String = "") -> [(String, String)] {
        switch value {
        case .object(let fields):
            if fields.isEmpty { return prefix.isEmpty ? [] : [(prefix, "{}")] }
            return fields.keys.sorted().flatMap { rows(fields[$0] ?? .null, prefix: prefix.isEmpty ? $0 : "\(prefix).\($0)") }
        case .array(let items):
            if items.allSatisfy({ !$0.isContainer }) {
                return [(prefix, items.map { cell($0) }.joined(separator: ", "))]
            }
            return items.enumerated().flatMap { rows($0.element, prefix: "\(prefix).\($0.offset)") }
        default:
            return [(prefix.isEmpty ? "value" : prefix, cell(value))]
        }
    }

    /// A scalar as one line: strings with control characters escaped, others as JSON.
    static func cell(_ value: JSONValue) -> String {
        guard let text = value.stringValue else { return value == .null ? "-" : Output.plain(value) }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Aligned rows, one per line.
    public static func render(_ rows: [(String, String)]) -> String {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 + "\n" }.joined()
    }
}

extension JSONValue {
    /// Whether this is an object or array.
    var isContainer: Bool {
        switch self {
        case .object, .array: return true
        default: return false
        }
    }
}

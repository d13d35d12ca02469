/// YAML double-quoted scalars that every YAML 1.1 and 1.2 reader (PyYAML included) reads back as the
/// same string: always quoted, so `ON`, `no`, `0x1F`, `1e3`, `~` or `2001-12-14` stay strings; only
/// printable ASCII is written as itself, everything else as an escape (`\n`, `\t`, `\xXX`, `\uXXXX`,
/// `\UXXXXXXXX`), so no reader can fold a line, reject a control character or strip a byte-order mark.
public enum YAMLEncoding {
    /// `text` as a double-quoted YAML scalar.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            case " "..."~": out.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                if value <= 0xff {
                    out += "\\x" + hex(value, width: 2)
                } else if value <= 0xffff {
                    out += "\\u" + hex(value, width: 4)
                } else {
                    out += "\\U" + hex(value, width: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

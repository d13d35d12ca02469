/// Quoting for `.env` files read identically by a POSIX shell (`. ./.env`, `set -a`), python-dotenv and
/// docker compose's `env_file`.
///
/// - No `'`, `\`: single quotes, inside which nothing is special to any of them (line breaks included).
/// - Else, no `$` or backtick: double quotes with `\` and `"` escaped, the only two escapes every
///   reader decodes the same way.
/// - Else refused: the shell needs `\$` or `` \` `` in double quotes, which python-dotenv keeps
///   as two characters, and python-dotenv cannot read the shell's `'\''`.
/// Carriage returns are refused (python-dotenv reads files with universal newlines), as is NUL, and
/// `${`, which python-dotenv expands even inside single quotes and has no escape for.
public enum DotenvEncoding {
    /// The quoted value, or a refusal naming `key`.
    public static func quoted(_ value: String, key: String) throws(ExportRefusal) -> String {
        var hasSingleQuoteOrBackslash = false
        var hasExpansion = false
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\0": throw ExportRefusal(key: key, reason: .nul, format: .dotenv)
            case "\r": throw ExportRefusal(key: key, reason: .carriageReturn, format: .dotenv)
            case "'", "\\": hasSingleQuoteOrBackslash = true
            case "$", "`": hasExpansion = true
            default: break
            }
        }
        if value.contains("${") { throw ExportRefusal(key: key, reason: .interpolation, format: .dotenv) }
        if !hasSingleQuoteOrBackslash { return "'\(value)'" }
        if hasExpansion { throw ExportRefusal(key: key, reason: .noCommonQuoting, format: .dotenv) }
        var escaped = "\""
        for character in value.unicodeScalars {
            if character == "\\" || character == "\"" { escaped.unicodeScalars.append("\\") }
            escaped.unicodeScalars.append(character)
        }
        return escaped + "\""
    }
}

/// POSIX shell quoting: the whole value in single quotes, each `'` written as `'\''`. Nothing inside
/// single quotes is special to `sh`, so every value reads back exactly, except NUL, which no shell
/// variable can hold.
public enum ShellEncoding {
    /// The quoted value, or a refusal naming `key`.
    public static func quoted(_ value: String, key: String) throws(ExportRefusal) -> String {
        guard !value.unicodeScalars.contains("\0") else { throw ExportRefusal(key: key, reason: .nul, format: .shell) }
        return "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

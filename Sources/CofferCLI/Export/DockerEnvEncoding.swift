/// `docker run --env-file`: the text after the first `=` is the value, byte for byte (docker does not
/// unquote). A line ends at `\n` and a trailing `\r` is dropped, so values with either, or NUL, are
/// refused.
public enum DockerEnvEncoding {
    /// The value as written, or a refusal naming `key`.
    public static func verbatim(_ value: String, key: String) throws(ExportRefusal) -> String {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\0": throw ExportRefusal(key: key, reason: .nul, format: .docker)
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": throw ExportRefusal(key: key, reason: .lineBreak, format: .docker)
            default: continue
            }
        }
        return value
    }
}

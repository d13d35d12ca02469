/// Header rules of the gateway.
public enum GatewayHeaders {
    /// Never forwarded upstream, whatever a route lists: credentials of the caller, hop-by-hop
    /// headers (RFC 9110 §7.6.1), framing and routing headers Coffer sets itself.
    public static let neverForwarded: Set<String> = [
        "authorization", "proxy-authorization", "cookie", "x-vault-token", "x-vault-namespace", "x-coffer-tenant", "connection",
        "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
        "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "origin",
    ]

    /// Never passed back to the client, whatever a route lists.
    public static let neverReturned: Set<String> = [
        "set-cookie", "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
        "www-authenticate", "proxy-authenticate",
    ]

    /// Whether `name` is an HTTP token (RFC 9110 field name).
    public static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.utf8.allSatisfy {
                (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || "!#$%&'*+-.^_`|~".utf8.contains($0)
            }
    }

    /// Whether a header value is safe to send: no CR, LF or NUL (nor other controls but tab).
    public static func isSafeValue(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7f) }
    }
}

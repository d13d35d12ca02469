/// The token of an expiring asset URL (`?token=<expiry>.<key version>.<mac>`): an HMAC-SHA256 over the
/// tenant, project, asset name and expiry, keyed by a key derived (HKDF-SHA256) from the tenant's data
/// key of that version. It opens one asset until it expires; it cannot be moved to another asset,
/// project or tenant, and no part of it can be changed without the MAC failing.
public struct AssetURLToken: Sendable, Equatable {
    /// Unix seconds after which the token is refused.
    public var expiresAt: Int64
    /// The tenant data-key version the MAC key comes from.
    public var keyVersion: Int
    /// The MAC.
    public var mac: [UInt8]

    /// Longest lifetime a token may be issued for (7 days).
    public static let maximumSeconds: Int64 = 7 * 86_400

    /// The text form.
    public var text: String { "\(expiresAt).\(keyVersion).\(Base64.encodeURL(mac))" }

    /// Parses the text form strictly; `nil` for anything else.
    public static func parse(_ text: String) -> AssetURLToken? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count <= 12, parts[1].count <= 9,
            parts[0].utf8.allSatisfy({ (48...57).contains($0) }), parts[1].utf8.allSatisfy({ (48...57).contains($0) }),
            let expiry = Int64(parts[0]), let version = Int(parts[1]), let mac = Base64.decodeURL(String(parts[2])), mac.count == 32
        else { return nil }
        return AssetURLToken(expiresAt: expiry, keyVersion: version, mac: mac)
    }
}

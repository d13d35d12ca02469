import Crypto
import Foundation

/// A public asset of a gateway project (a script or a stylesheet the project's pages load): stored
/// encrypted like every value, served with its digest so a page can pin it with Subresource Integrity.
public struct GatewayAsset: Sendable, Equatable {
    /// Most bytes one asset may hold.
    public static let maximumBytes = 512 * 1024

    /// The media types an asset may have, by the file extension that implies each.
    public static let contentTypes: [(extensions: [String], type: String)] = [
        (["js", "mjs"], "text/javascript; charset=utf-8"),
        (["css"], "text/css; charset=utf-8"),
        (["json", "map"], "application/json"),
        (["wasm"], "application/wasm"),
    ]

    /// The asset's name (`A-Z a-z 0-9 - _ .`, 1-128, not starting with a dot).
    public var name: String
    /// Its `Content-Type`.
    public var contentType: String
    /// Whether it is served only with a signed, expiring URL token.
    public var requireToken: Bool
    /// SHA-256 of the content.
    public var sha256: [UInt8]
    /// Content length in bytes.
    public var size: Int
    /// When it was first uploaded and last replaced (ms).
    public var createdAt: Int64
    /// When it was last replaced (ms).
    public var updatedAt: Int64

    /// Creates an asset description.
    public init(name: String, contentType: String, requireToken: Bool, sha256: [UInt8], size: Int, createdAt: Int64, updatedAt: Int64) {
        self.name = name
        self.contentType = contentType
        self.requireToken = requireToken
        self.sha256 = sha256
        self.size = size
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Whether `name` is a valid asset name.
    public static func isValidName(_ name: String) -> Bool {
        TransitKey.isValidName(name) && !name.hasPrefix(".")
    }

    /// The content type for an upload: the one given (by its short or full name), or the one the name's
    /// extension implies; `INVALID_REQUEST` for anything else (no HTML, SVG or other active types).
    public static func contentType(given: String?, name: String) throws(CofferError) -> String {
        let allowed = contentTypes.map(\.type).joined(separator: ", ")
        if let given {
            let bare = given.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            let aliases = ["application/javascript": "text/javascript", "application/x-javascript": "text/javascript"]
            let wanted = aliases[bare] ?? bare
            guard let match = contentTypes.first(where: { $0.type.hasPrefix(wanted + ";") || $0.type == wanted }) else {
                throw CofferError(.invalidRequest, "content_type must be one of: \(allowed)")
            }
            return match.type
        }
        let suffix = name.split(separator: ".").last.map { String($0).lowercased() } ?? ""
        guard name.contains("."), let match = contentTypes.first(where: { $0.extensions.contains(suffix) }) else {
            throw CofferError(.invalidRequest, "cannot tell the content type from the name; give content_type (one of: \(allowed))")
        }
        return match.type
    }

    /// Describes `content` uploaded as `name`.
    public static func describing(
        _ content: [UInt8], name: String, contentType: String, requireToken: Bool, createdAt: Int64, updatedAt: Int64
    ) -> GatewayAsset {
        GatewayAsset(
            name: name, contentType: contentType, requireToken: requireToken, sha256: Array(SHA256.hash(data: content)), size: content.count,
            createdAt: createdAt, updatedAt: updatedAt)
    }

    /// The Subresource Integrity value: `sha256-<base64>`.
    public var integrity: String { "sha256-" + Base64.encode(sha256) }
    /// The RFC 9530 `Content-Digest` value: `sha-256=:<base64>:`.
    public var contentDigest: String { "sha-256=:" + Base64.encode(sha256) + ":" }
    /// The seed's `Content-SHA256` value (lowercase hex).
    public var sha256Hex: String { sha256.map { String(format: "%02x", $0) }.joined() }
    /// A strong entity tag derived from the content.
    public var etag: String { "\"sha256-" + sha256Hex + "\"" }

    /// The HTML that loads the asset from `url` with its integrity pinned (a `<script>` or a stylesheet
    /// `<link>`; `nil` for other types).
    public func snippet(url: String) -> String? {
        let escaped = url.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
        if contentType.hasPrefix("text/javascript") {
            return "<script src=\"\(escaped)\" integrity=\"\(integrity)\" crossorigin=\"anonymous\"></script>"
        }
        if contentType.hasPrefix("text/css") {
            return "<link rel=\"stylesheet\" href=\"\(escaped)\" integrity=\"\(integrity)\" crossorigin=\"anonymous\">"
        }
        return nil
    }
}

import CofferCore
import Crypto
import Foundation

/// Signs webhook deliveries per the Standard Webhooks specification: headers `webhook-id`,
/// `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
/// `<id>.<timestamp>.<body>`, keyed by the base64 part of a `whsec_` secret.
enum StandardWebhook {
    /// The HMAC key of a `whsec_…` secret; `nil` when it is not one.
    static func key(secret: String) -> SymmetricKey? {
        guard secret.hasPrefix("whsec_"), let bytes = Base64.decode(String(secret.dropFirst(6))), bytes.count >= 24, bytes.count <= 64 else {
            return nil
        }
        return SymmetricKey(data: bytes)
    }

    /// The three headers for a delivery.
    static func headers(id: String, timestamp: Int64, body: [UInt8], key: SymmetricKey) -> [(String, String)] {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        let signature = Base64.encode(Array(HMAC<SHA256>.authenticationCode(for: signed, using: key)))
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", "v1,\(signature)")]
    }
}

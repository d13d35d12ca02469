import Crypto

/// Replaces sensitive values in audited request bodies with `hmac-sha256:<hex>` under the tenant's
/// audit key, so the log never reveals them but an auditor can ask "was value X written?".
///
/// Every string leaf is hashed except under keys known to carry no secret (versions, flags, names,
/// roles, durations, reasons). Object keys stay readable, as in Vault's audit devices.
public struct AuditRedactor: Sendable {
    private let key: SymmetricKey

    /// Keys whose string values are kept in clear.
    public static let clearKeys: Set<String> = [
        "cas", "version", "versions", "max_versions", "cas_required", "delete_version_after", "role", "ttl", "display_name", "name",
        "environment", "batch_size", "max_batches", "to_version", "reason", "accessor", "type", "policies", "before", "scopes",
    ]

    /// Creates a redactor for one tenant's audit key.
    public init(key: SymmetricKey) { self.key = key }

    /// The tenant's audit HMAC key, derived from the keyring's audit key.
    public static func tenantKey(auditKey: [UInt8], tenantID: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: auditKey), salt: Array("coffer-audit-hmac-v1".utf8), info: Array(tenantID.utf8), outputByteCount: 32)
    }

    /// `hmac-sha256:<hex>` of a value, as it appears in the log.
    public func hash(_ value: String) -> String {
        "hmac-sha256:" + Array(HMAC<SHA256>.authenticationCode(for: Array(value.utf8), using: key)).hexString
    }

    /// The value with sensitive leaves hashed.
    public func redact(_ value: JSONValue, key name: String? = nil) -> JSONValue {
        switch value {
        case .string(let text):
            if let name, Self.clearKeys.contains(name) { return value }
            return .string(hash(text))
        case .object(let members):
            return .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, redact($0.value, key: $0.key)) }))
        case .array(let items):
            return .array(items.map { redact($0, key: name) })
        default:
            return value
        }
    }
}

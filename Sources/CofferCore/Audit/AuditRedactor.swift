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

    /// The request body with sensitive leaves hashed. Only Coffer's own parameters — top-level members
    /// and members of `options` — may stay readable, and only under ``clearKeys``; everything inside any
    /// other member (a KV `data` payload, `custom_metadata`, …) is hashed whatever its keys are called,
    /// so a secret stored under a field named `name` or `version` is hashed too.
    public func redact(_ value: JSONValue) -> JSONValue {
        guard case .object(let members) = value else { return hashAll(value) }
        return .object(
            Dictionary(
                uniqueKeysWithValues: members.map { key, member in
                    if key == "options", case .object = member { return (key, redact(member)) }
                    return (key, Self.clearKeys.contains(key) && Self.isParameter(member) ? member : hashAll(member))
                }))
    }

    /// Every string and number inside `value` hashed (a number by its exact literal text, so
    /// `sys/audit-hash` of `"12345678901234567"` matches it); structure, booleans and nulls kept.
    /// A secret stored as a JSON number (a PIN, an account number) is as hidden as one stored as text.
    public func hashAll(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(hash(text))
        case .number(let number): return .string(hash(number.literal))
        case .object(let members): return .object(members.mapValues(hashAll))
        case .array(let items): return .array(items.map(hashAll))
        default: return value
        }
    }

    /// A scalar, or an array of scalars (e.g. `versions`, `scopes`).
    static func isParameter(_ value: JSONValue) -> Bool {
        switch value {
        case .object: return false
        case .array(let items):
            return items.allSatisfy { if case .object = $0 { return false } else if case .array = $0 { return false } else { return true } }
        default: return true
        }
    }
}

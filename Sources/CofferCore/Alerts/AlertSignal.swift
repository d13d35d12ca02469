/// What an audited event means to the alert rules. Read off committed audit entries, so every instance
/// sees what it served, and an alert can point at the entries that raised it.
public enum AlertSignal: Sendable, Equatable {
    /// A failed authentication (a bad credential, a failed login) from a client address.
    case failedAuth(address: String)
    /// A signature that did not verify (what was being checked: the operation).
    case signatureFailure(operation: String)
    /// Revoked or expired API keys presented (`count` of them).
    case revokedKeyUse(count: Int)
    /// A key reported leaked (its id).
    case leakedKey(keyID: String)
    /// A request answered with `status` (for error rates).
    case request(status: Int)
    /// A key created or rotated (operation, resource id).
    case newKey(operation: String, resourceID: String)

    /// Error codes that mean a signature did not verify.
    static let signatureCodes: Set<String> = [
        "SIGNATURE_INVALID", "REQUEST_SIGNATURE_INVALID", "SIGNATURE_REPLAYED", "CONTENT_DIGEST_MISMATCH",
    ]

    /// Operations that create or rotate a key.
    static let keyCreations: Set<String> = ["keys.create", "keys.rotate", "transit.create", "transit.rotate", "keyring.rotate"]

    /// The signals in one audit record. Alert bookkeeping (`alert.*`) and background summaries of
    /// requests raise none themselves, apart from what a summary counts.
    public static func signals(in record: AuditRecord) -> [AlertSignal] {
        let operation = record.operation
        if operation.hasPrefix("alert.") { return [] }
        if operation == "keys.verify.summary" {
            let revoked = (Int(record.details["count_revoked"] ?? "") ?? 0) + (Int(record.details["count_expired"] ?? "") ?? 0)
            return revoked > 0 ? [.revokedKeyUse(count: revoked)] : []
        }
        var signals: [AlertSignal] = []
        if record.status > 0, !record.requestID.isEmpty { signals.append(.request(status: record.status)) }
        if operation == "auth.failed" || operation == "auth.login.failed" { signals.append(.failedAuth(address: record.clientIP)) }
        if signatureCodes.contains(record.errorCode) || (operation == "transit.verify" && record.details["valid"] == "false") {
            signals.append(.signatureFailure(operation: operation))
        }
        if operation == "keys.leaked" { signals.append(.leakedKey(keyID: record.resourceID)) }
        if record.details["key_state"] == "revoked" || record.details["key_state"] == "expired" { signals.append(.revokedKeyUse(count: 1)) }
        if keyCreations.contains(operation), record.succeeded { signals.append(.newKey(operation: operation, resourceID: record.resourceID)) }
        return signals
    }
}

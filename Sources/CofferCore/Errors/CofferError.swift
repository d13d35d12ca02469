/// A stable, machine-readable error code. The raw value never changes once released.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The stable string form, e.g. `PERMISSION_DENIED`.
    public let rawValue: String
    /// Creates a code from its stable string form.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The stable string form.
    public var description: String { rawValue }

    /// The request body or a parameter is malformed.
    public static let invalidRequest = ErrorCode(rawValue: "INVALID_REQUEST")
    /// The request body is not valid JSON.
    public static let malformedJSON = ErrorCode(rawValue: "MALFORMED_JSON")
    /// The request body exceeds the configured limit.
    public static let payloadTooLarge = ErrorCode(rawValue: "PAYLOAD_TOO_LARGE")
    /// No credential, or an unknown, expired or revoked one.
    public static let unauthenticated = ErrorCode(rawValue: "UNAUTHENTICATED")
    /// The credential is valid but may not do this.
    public static let permissionDenied = ErrorCode(rawValue: "PERMISSION_DENIED")
    /// The credential belongs to another tenant than the one requested.
    public static let tenantMismatch = ErrorCode(rawValue: "TENANT_MISMATCH")
    /// The requested tenant does not exist.
    public static let tenantNotFound = ErrorCode(rawValue: "TENANT_NOT_FOUND")
    /// The tenant already exists.
    public static let tenantExists = ErrorCode(rawValue: "TENANT_EXISTS")
    /// Nothing is stored at that path or version.
    public static let notFound = ErrorCode(rawValue: "NOT_FOUND")
    /// The route does not exist.
    public static let routeNotFound = ErrorCode(rawValue: "ROUTE_NOT_FOUND")
    /// The HTTP method is not supported on this route.
    public static let methodNotAllowed = ErrorCode(rawValue: "METHOD_NOT_ALLOWED")
    /// A check-and-set parameter did not match the current version.
    public static let casMismatch = ErrorCode(rawValue: "CAS_MISMATCH")
    /// The secret requires a check-and-set parameter.
    public static let casRequired = ErrorCode(rawValue: "CAS_REQUIRED")
    /// A ciphertext failed authentication (tampered, moved, or wrong key).
    public static let decryptionFailed = ErrorCode(rawValue: "DECRYPTION_FAILED")
    /// An environment reference names a variable the server does not have.
    public static let referenceUnresolved = ErrorCode(rawValue: "REFERENCE_UNRESOLVED")
    /// The root key is missing, malformed or does not match the stored keyring.
    public static let rootKeyInvalid = ErrorCode(rawValue: "ROOT_KEY_INVALID")
    /// A key version is unknown or no longer usable.
    public static let keyVersionUnknown = ErrorCode(rawValue: "KEY_VERSION_UNKNOWN")
    /// The storage backend failed.
    public static let storageUnavailable = ErrorCode(rawValue: "STORAGE_UNAVAILABLE")
    /// The audit log could not record the request, so it was not carried out (fail-closed).
    public static let auditUnavailable = ErrorCode(rawValue: "AUDIT_UNAVAILABLE")
    /// An unexpected server-side failure.
    public static let internalError = ErrorCode(rawValue: "INTERNAL_ERROR")
    /// Configuration is invalid.
    public static let configInvalid = ErrorCode(rawValue: "CONFIG_INVALID")
    /// Over a rate limit (HTTP 429 with `Retry-After`).
    public static let rateLimited = ErrorCode(rawValue: "RATE_LIMITED")
    /// Over a long-term quota (HTTP 429 with `Retry-After`).
    public static let quotaExceeded = ErrorCode(rawValue: "QUOTA_EXCEEDED")
    /// The key (or the version asked for) has expired.
    public static let keyExpired = ErrorCode(rawValue: "KEY_EXPIRED")
    /// The key version is retired, or deprecated for this operation.
    public static let keyDisabled = ErrorCode(rawValue: "KEY_DISABLED")
    /// No protection policy of this name.
    public static let policyNotFound = ErrorCode(rawValue: "POLICY_NOT_FOUND")
    /// A signature did not verify (including any modification of a protected payload).
    public static let signatureInvalid = ErrorCode(rawValue: "SIGNATURE_INVALID")
    /// A protected payload belongs to another policy.
    public static let policyMismatch = ErrorCode(rawValue: "POLICY_MISMATCH")
}

/// Coffer's error: a stable code plus a human message that never contains secret material.
public struct CofferError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The stable machine code.
    public let code: ErrorCode
    /// A message safe to show to the caller and to log.
    public let message: String
    /// The limit that refused the request, for `RATE_LIMITED` and `QUOTA_EXCEEDED`.
    public var rateLimit: RateLimitStatus?
    /// Whether the failure is in what the client sent (a ciphertext it supplied) rather than in stored data.
    public var isClientInput: Bool

    /// Creates an error. `message` must never include a secret, key, token or payload.
    public init(_ code: ErrorCode, _ message: String, rateLimit: RateLimitStatus? = nil, isClientInput: Bool = false) {
        self.code = code
        self.message = message
        self.rateLimit = rateLimit
        self.isClientInput = isClientInput
    }

    /// `CODE: message`.
    public var description: String { "\(code.rawValue): \(message)" }
}

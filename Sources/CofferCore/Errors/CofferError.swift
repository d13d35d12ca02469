/// A stable, machine-readable error code: a closed set. The raw value never changes once released;
/// every code has exactly one HTTP status (``ErrorStatus``), and the switch there is exhaustive, so a
/// code added here without a status does not compile.
public enum ErrorCode: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The request body or a parameter is malformed.
    case invalidRequest = "INVALID_REQUEST"
    /// The request body is not valid JSON.
    case malformedJSON = "MALFORMED_JSON"
    /// The request body exceeds the configured limit.
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    /// No credential, or an unknown, expired or revoked one.
    case unauthenticated = "UNAUTHENTICATED"
    /// The credential is valid but may not do this.
    case permissionDenied = "PERMISSION_DENIED"
    /// The credential belongs to another tenant than the one requested.
    case tenantMismatch = "TENANT_MISMATCH"
    /// The requested tenant does not exist.
    case tenantNotFound = "TENANT_NOT_FOUND"
    /// The tenant already exists.
    case tenantExists = "TENANT_EXISTS"
    /// Nothing is stored at that path or version.
    case notFound = "NOT_FOUND"
    /// The route does not exist.
    case routeNotFound = "ROUTE_NOT_FOUND"
    /// The HTTP method is not supported on this route.
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    /// A check-and-set parameter did not match the current version.
    case casMismatch = "CAS_MISMATCH"
    /// The secret requires a check-and-set parameter.
    case casRequired = "CAS_REQUIRED"
    /// A ciphertext failed authentication (tampered, moved, or wrong key).
    case decryptionFailed = "DECRYPTION_FAILED"
    /// An environment reference names a variable the server does not have.
    case referenceUnresolved = "REFERENCE_UNRESOLVED"
    /// The root key is missing, malformed or does not match the stored keyring.
    case rootKeyInvalid = "ROOT_KEY_INVALID"
    /// A key version is unknown or no longer usable.
    case keyVersionUnknown = "KEY_VERSION_UNKNOWN"
    /// The storage backend failed.
    case storageUnavailable = "STORAGE_UNAVAILABLE"
    /// The audit log could not record the request, so it was not carried out (fail-closed).
    case auditUnavailable = "AUDIT_UNAVAILABLE"
    /// An unexpected server-side failure.
    case internalError = "INTERNAL_ERROR"
    /// Configuration is invalid.
    case configInvalid = "CONFIG_INVALID"
    /// Over a rate limit (HTTP 429 with `Retry-After`).
    case rateLimited = "RATE_LIMITED"
    /// Over a long-term quota (HTTP 429 with `Retry-After`).
    case quotaExceeded = "QUOTA_EXCEEDED"
    /// The key (or the version asked for) has expired.
    case keyExpired = "KEY_EXPIRED"
    /// The key version is retired, or deprecated for this operation.
    case keyDisabled = "KEY_DISABLED"
    /// No protection policy of this name.
    case policyNotFound = "POLICY_NOT_FOUND"
    /// A signature did not verify (including any modification of a protected payload).
    case signatureInvalid = "SIGNATURE_INVALID"
    /// A protected payload belongs to another policy.
    case policyMismatch = "POLICY_MISMATCH"
    /// Data read from storage is not a value Coffer knows (a row edited by hand or by a newer version); refused, never guessed.
    case storageCorrupt = "STORAGE_CORRUPT"
    /// The keyring or the data it protects does not verify (rolled back, edited, or a key version missing); the server will not start on it.
    case keyringInvalid = "KEYRING_INVALID"
    /// A browser origin the gateway project does not list (no CORS headers are sent).
    case originNotAllowed = "ORIGIN_NOT_ALLOWED"
    /// The gateway project is disabled.
    case projectDisabled = "PROJECT_DISABLED"
    /// The gateway refused to call the upstream: its address is not public, or its credential cannot be read.
    case upstreamRefused = "UPSTREAM_REFUSED"
    /// The upstream could not be reached or broke off.
    case upstreamUnavailable = "UPSTREAM_UNAVAILABLE"
    /// The upstream did not answer in time.
    case upstreamTimeout = "UPSTREAM_TIMEOUT"
    /// The upstream's answer exceeds the provider's size limit.
    case upstreamResponseTooLarge = "UPSTREAM_RESPONSE_TOO_LARGE"
    /// A signed gateway request whose signature is missing, malformed, of an unknown key, or wrong.
    case requestSignatureInvalid = "REQUEST_SIGNATURE_INVALID"
    /// A signed gateway request outside its client's time window.
    case signatureExpired = "SIGNATURE_EXPIRED"
    /// A signed gateway request seen before.
    case signatureReplayed = "SIGNATURE_REPLAYED"
    /// A request body that is not the one its Content-Digest names.
    case contentDigestMismatch = "CONTENT_DIGEST_MISMATCH"
    /// A gateway client suspended for anomalous behaviour (until the suspension ends or an admin lifts it).
    case clientSuspended = "CLIENT_SUSPENDED"
    /// An expiring asset URL whose token was not issued for this asset, or was altered.
    case assetTokenInvalid = "ASSET_TOKEN_INVALID"
    /// An expiring asset URL past its expiry.
    case assetTokenExpired = "ASSET_TOKEN_EXPIRED"
    /// A JWT a gateway client profile does not accept: malformed, unknown issuer, wrong audience,
    /// an algorithm the profile does not allow, or a signature that does not verify.
    case jwtInvalid = "JWT_INVALID"
    /// A JWT past its expiry (or before its `nbf`), beyond the profile's leeway.
    case jwtExpired = "JWT_EXPIRED"
    /// A TLS client certificate no mTLS profile of the gateway project accepts (unknown CA, expired,
    /// not yet valid, or without the identity the profile reads).
    case certificateInvalid = "CERTIFICATE_INVALID"
    /// A login through an auth method was refused: unknown user or wrong password, unknown role ID or
    /// secret ID, a secret ID used up, expired or used from outside its networks. Which one is not said.
    case loginFailed = "LOGIN_FAILED"
    /// Logins of this user (or from this client address) are locked after repeated failures; the
    /// answer's `Retry-After` says when they open again.
    case loginLocked = "LOGIN_LOCKED"
    /// The server is sealed (`PUT /v1/sys/seal`): it holds no keys until unsealed. Vault's text:
    /// `Vault is sealed`.
    case sealed = "SEALED"
    /// The tenant already has a running re-encryption job (its id is in the message); wait for it or
    /// cancel it.
    case jobRunning = "JOB_RUNNING"

    /// The stable string form.
    public var description: String { rawValue }
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

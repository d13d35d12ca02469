import CofferCore
import CofferServer
import HTTPTypes
import Testing

/// The closed set of error codes: stable strings, one status each. (A code without a status does not
/// compile: `ErrorStatus.status(for:)` switches over every case with no default.)
@Suite("Error codes")
struct ErrorCodeTests {
    /// The released codes; changing or dropping one breaks clients that match on it.
    static let released: [String: Int] = [
        "INVALID_REQUEST": 400, "MALFORMED_JSON": 400, "PAYLOAD_TOO_LARGE": 413, "UNAUTHENTICATED": 403, "PERMISSION_DENIED": 403,
        "TENANT_MISMATCH": 403, "TENANT_NOT_FOUND": 404, "TENANT_EXISTS": 409, "NOT_FOUND": 404, "ROUTE_NOT_FOUND": 404,
        "METHOD_NOT_ALLOWED": 405, "CAS_MISMATCH": 400, "CAS_REQUIRED": 400, "DECRYPTION_FAILED": 500, "REFERENCE_UNRESOLVED": 422,
        "ROOT_KEY_INVALID": 503, "KEY_VERSION_UNKNOWN": 503, "STORAGE_UNAVAILABLE": 503, "AUDIT_UNAVAILABLE": 503, "INTERNAL_ERROR": 500,
        "CONFIG_INVALID": 500, "RATE_LIMITED": 429, "QUOTA_EXCEEDED": 429, "KEY_EXPIRED": 400, "KEY_DISABLED": 400, "POLICY_NOT_FOUND": 404,
        "SIGNATURE_INVALID": 400, "POLICY_MISMATCH": 400, "STORAGE_CORRUPT": 500, "KEYRING_INVALID": 503,
        "ORIGIN_NOT_ALLOWED": 403, "PROJECT_DISABLED": 403, "UPSTREAM_REFUSED": 502, "UPSTREAM_UNAVAILABLE": 502, "UPSTREAM_TIMEOUT": 504,
        "UPSTREAM_RESPONSE_TOO_LARGE": 502, "REQUEST_SIGNATURE_INVALID": 401, "SIGNATURE_EXPIRED": 401, "SIGNATURE_REPLAYED": 401,
        "CONTENT_DIGEST_MISMATCH": 400, "CLIENT_SUSPENDED": 403,
        "ASSET_TOKEN_INVALID": 403, "ASSET_TOKEN_EXPIRED": 403, "JWT_INVALID": 401, "JWT_EXPIRED": 401, "CERTIFICATE_INVALID": 401,
        "LOGIN_FAILED": 400, "LOGIN_LOCKED": 429, "SEALED": 503, "JOB_RUNNING": 409,
    ]

    @Test func everyCodeIsReleasedWithItsStatus() {
        #expect(Set(ErrorCode.allCases.map(\.rawValue)) == Set(Self.released.keys))
        for code in ErrorCode.allCases {
            #expect(Int(ErrorStatus.status(for: code).code) == Self.released[code.rawValue], "\(code)")
        }
    }

    @Test func aCiphertextTheClientSentIsTheClientsError() {
        #expect(ErrorStatus.status(for: CofferError(.decryptionFailed, "x", isClientInput: true)) == .badRequest)
        #expect(ErrorStatus.status(for: CofferError(.decryptionFailed, "x")) == .internalServerError)
    }
}

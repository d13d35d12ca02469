import CofferCore
import HTTPTypes
import Hummingbird
import NIOCore

/// Maps Coffer's error codes to HTTP statuses; the only place that decides them.
public enum ErrorStatus {
    /// The HTTP status for a code. Exhaustive, with no `default`: a new code must be given a status here.
    public static func status(for code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidRequest, .malformedJSON, .casMismatch, .casRequired: return .badRequest
        case .keyExpired, .keyDisabled, .signatureInvalid, .policyMismatch: return .badRequest
        case .payloadTooLarge: return .contentTooLarge
        case .unauthenticated, .permissionDenied, .tenantMismatch, .originNotAllowed, .projectDisabled: return .forbidden
        case .upstreamRefused, .upstreamUnavailable, .upstreamResponseTooLarge: return .badGateway
        case .upstreamTimeout: return .gatewayTimeout
        case .requestSignatureInvalid, .signatureExpired, .signatureReplayed, .jwtInvalid, .jwtExpired, .certificateInvalid: return .unauthorized
        case .contentDigestMismatch, .loginFailed: return .badRequest
        case .loginLocked: return .tooManyRequests
        case .clientSuspended, .assetTokenInvalid, .assetTokenExpired: return .forbidden
        case .notFound, .routeNotFound, .tenantNotFound, .policyNotFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .tenantExists, .jobRunning: return .conflict
        case .referenceUnresolved: return .unprocessableContent
        case .rateLimited, .quotaExceeded: return .tooManyRequests
        case .storageUnavailable, .rootKeyInvalid, .keyVersionUnknown, .auditUnavailable, .keyringInvalid, .sealed: return .serviceUnavailable
        case .decryptionFailed, .internalError, .configInvalid, .storageCorrupt: return .internalServerError
        }
    }

    /// The HTTP status for an error: its code's, except that a ciphertext the client sent failing to
    /// decrypt is the client's 400, where stored data failing to decrypt stays a 500.
    public static func status(for error: CofferError) -> HTTPResponse.Status {
        if error.code == .decryptionFailed && error.isClientInput { return .badRequest }
        return status(for: error.code)
    }

    /// Any thrown error as the `CofferError` the client sees: Coffer's own unchanged, the framework's
    /// (unknown route, body too large, …) mapped by status, anything else an opaque `INTERNAL_ERROR`.
    /// Messages of foreign errors are never passed through, so nothing of the input is echoed.
    public static func normalize(_ error: any Error) -> CofferError {
        switch error {
        case let error as CofferError:
            return error
        case is NIOTooManyBytesError:
            return CofferError(.payloadTooLarge, "request body too large")
        case let error as HTTPError:
            let code = code(for: error.status)
            switch code {
            case .routeNotFound: return CofferError(code, "unsupported path")
            case .methodNotAllowed: return CofferError(code, "unsupported operation")
            case .payloadTooLarge: return CofferError(code, "request body too large")
            default: return CofferError(code, error.status.reasonPhrase)
            }
        default:
            return CofferError(.internalError, "internal error")
        }
    }

    /// The code for an HTTP status raised by the framework (unknown route, body too large, …).
    public static func code(for status: HTTPResponse.Status) -> ErrorCode {
        switch status.code {
        case 404: return .routeNotFound
        case 405: return .methodNotAllowed
        case 413: return .payloadTooLarge
        case 400..<500: return .invalidRequest
        default: return .internalError
        }
    }
}

import CofferCore
import HTTPTypes
import Hummingbird
import Logging

/// The outermost middleware: turns every error into Coffer's JSON error with a stable code and the
/// request id, adds security headers and `X-Request-Id` to every response, and writes one access-log
/// line per request (method, path, status, duration, request id — never headers or bodies).
public struct HygieneMiddleware: RouterMiddleware {
    /// The context type.
    public typealias Context = CofferRequestContext
    let tlsEnabled: Bool
    let logger: Logger

    /// Creates the middleware.
    public init(tlsEnabled: Bool, logger: Logger) {
        self.tlsEnabled = tlsEnabled
        self.logger = logger
    }

    /// Handles a request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let notes = context.notes
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            if !(error is CofferError || error is HTTPError) {
                logger.error("unhandled error", metadata: ["request_id": .string(context.requestID), "error_type": .string("\(type(of: error))")])
            }
            let failure = ErrorStatus.normalize(error)
            response = VaultResponse.error(failure, requestID: context.requestID)
            if let limit = failure.rateLimit {
                notes.rateLimit = limit
                response.headers[.retryAfter] = String(limit.retryAfterSeconds ?? limit.resetSeconds)
            }
        }
        if let limit = notes.rateLimit {
            response.headers[.rateLimitLimit] = String(limit.limit)
            response.headers[.rateLimitRemaining] = String(limit.remaining)
            response.headers[.rateLimitReset] = String(limit.resetSeconds)
        }
        for (name, value) in notes.corsHeaders {
            if let field = HTTPField.Name(name) { response.headers[field] = value }
        }
        response.headers[.requestID] = context.requestID
        SecurityHeaders.apply(to: &response.headers, tlsEnabled: tlsEnabled)
        let elapsed = ContinuousClock.now - started
        logger.info(
            "request",
            metadata: [
                "request_id": .string(context.requestID), "method": .string(request.method.rawValue),
                "path": .string(request.uri.path), "status": .stringConvertible(response.status.code),
                "duration_us": .stringConvertible(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000),
            ])
        return response
    }
}

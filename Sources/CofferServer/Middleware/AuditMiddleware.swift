import CofferCore
import HTTPTypes
import Hummingbird
import Logging

/// Records every authenticated request and every failed authentication, fail-closed: a response is
/// only returned once its entry is durable; otherwise the client gets 503 `AUDIT_UNAVAILABLE`.
/// Write requests carry their entry inside their own transaction (see `AuditScope`).
public struct AuditMiddleware: RouterMiddleware {
    /// The context type.
    public typealias Context = CofferRequestContext
    let runtime: CofferRuntime
    let logger: Logger

    /// Creates the middleware.
    public init(runtime: CofferRuntime, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    /// Handles a request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard runtime.configuration.auditEnabled else { return try await next(request, context) }
        let scope = AuditScope(
            record: AuditRecord(
                time: runtime.clock.nowMillis, actor: .anonymous, operation: "", resourceType: "http", resourceID: request.uri.path,
                clientIP: context.clientIP, userAgent: request.headers[.userAgent] ?? "", requestID: context.requestID, status: 0, errorCode: "",
                request: .null, details: ["method": request.method.rawValue]))
        let response: Response
        do {
            response = try await AuditScope.$current.withValue(scope) { try await next(request, context) }
        } catch {
            let failure = ErrorStatus.normalize(error)
            try await persist(scope, status: Int(ErrorStatus.status(for: failure).code), code: failure.code.rawValue, force: true)
            throw error
        }
        try await persist(scope, status: Int(response.status.code), code: "", force: false)
        return response
    }

    func persist(_ scope: AuditScope, status: Int, code: String, force: Bool) async throws {
        if let committed = scope.committedEntry { runtime.auditSinks.emit(committed) }
        guard let (tenantID, record) = scope.finalRecord(status: status, errorCode: code, time: runtime.clock.nowMillis, force: force) else {
            return
        }
        do {
            runtime.auditSinks.emit(try await runtime.audit.record(tenantID: tenantID, record))
        } catch {
            logger.error("audit write failed; refusing the request", metadata: ["request_id": .string(record.requestID)])
            throw CofferError(.auditUnavailable, "the audit log is unavailable; the request was not carried out")
        }
    }
}

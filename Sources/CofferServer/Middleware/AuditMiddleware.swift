import CofferCore
import HTTPTypes
import Hummingbird
import Logging

/// Records every authenticated request and every failed authentication, fail-closed: a response is
/// only returned once its entry is durable; otherwise the client gets 503 `AUDIT_UNAVAILABLE`.
/// The request's ``UnitOfWork`` (in its context) is passed explicitly to every service that writes, and
/// a write appends the entry inside its own transaction; this middleware writes the entry of a request
/// that wrote nothing (reads, refusals) once its outcome is known.
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
        let work = context.work
        guard runtime.configuration.auditEnabled else {
            work.disable()
            return try await next(request, context)
        }
        work.begin(
            time: runtime.clock.nowMillis, method: request.method.rawValue, path: request.uri.path, userAgent: request.headers[.userAgent] ?? "")
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let failure = ErrorStatus.normalize(error)
            try await persist(work, status: Int(ErrorStatus.status(for: failure).code), code: failure.code.rawValue, force: true)
            throw error
        }
        try await persist(work, status: Int(response.status.code), code: "", force: false)
        return response
    }

    func persist(_ work: UnitOfWork, status: Int, code: String, force: Bool) async throws {
        if let committed = work.committedEntry { runtime.auditCommitted(committed) }
        guard let (tenantID, record) = work.finalRecord(status: status, errorCode: code, time: runtime.clock.nowMillis, force: force) else {
            return
        }
        do {
            runtime.auditCommitted(try await runtime.audit.record(tenantID: tenantID, record), record: record)
        } catch {
            logger.error("audit write failed; refusing the request", metadata: ["request_id": .string(record.requestID)])
            throw CofferError(.auditUnavailable, "the audit log is unavailable; the request was not carried out")
        }
    }
}

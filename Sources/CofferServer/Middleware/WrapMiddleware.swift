import CofferCore
import HTTPTypes
import Hummingbird

/// Response wrapping: with `X-Vault-Wrap-TTL`, a read (GET/LIST), a token creation or a new AppRole secret ID is answered with
/// only `wrap_info` (a single-use wrapping token); the answer itself is sealed and stored for
/// `sys/wrapping/unwrap`. Requests that cannot be wrapped are refused before anything is done, and an
/// answer that cannot be wrapped is never sent in the clear. Each wrap is its own audit entry.
public struct WrapMiddleware: RouterMiddleware {
    /// The context type.
    public typealias Context = CofferRequestContext
    let runtime: CofferRuntime

    /// Creates the middleware.
    public init(runtime: CofferRuntime) { self.runtime = runtime }

    /// Whether a request may be wrapped: reads, token creation, AppRole secret-ID generation, and
    /// `sys/wrapping/wrap` itself.
    static func eligible(_ request: Request) -> Bool {
        let path = request.uri.path
        if path.hasPrefix("/v1/sys/wrapping/") { return path == "/v1/sys/wrapping/wrap" && request.method == .post }
        if request.method == .get || request.method == .list { return true }
        // create, create-orphan and create/<role>; auth/<approle>/role/<name>/secret-id.
        guard request.method == .post || request.method == .put else { return false }
        return path.hasPrefix("/v1/auth/token/create") || (path.hasPrefix("/v1/auth/") && path.hasSuffix("/secret-id"))
    }

    /// Handles a request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var header = request.headers[.vaultWrapTTL]
        // `sys/wrapping/wrap` always wraps; Vault's default TTL is 5 minutes.
        if header == nil, request.uri.path == "/v1/sys/wrapping/wrap" { header = "300" }
        guard let header else { return try await next(request, context) }
        let ttl = try WrappingService.ttl(header)
        guard Self.eligible(request) else {
            throw CofferError(
                .invalidRequest,
                "X-Vault-Wrap-TTL: only reads, token creation and secret IDs can be wrapped; nothing was done (send the request without it)")
        }
        context.notes.wrapRequested = true
        let response = try await next(request, context)
        // Errors and empty answers are not wrapped (as in Vault); they carry nothing to protect.
        guard response.status == .ok else { return response }
        guard let answer = context.notes.wrappable, let tenantID = context.work.tenantID,
            let tenant = try await runtime.storage.tenants.tenant(id: tenantID)
        else {
            throw CofferError(.invalidRequest, "X-Vault-Wrap-TTL: this answer cannot be wrapped, so it was not sent")
        }
        let creationPath = String(request.uri.path.dropFirst("/v1/".count))
        let info = try await Self.wrap(answer, tenant: tenant, creationPath: creationPath, ttlSeconds: ttl, runtime: runtime, context: context)
        let wrappedAccessor = answer["auth"]?["accessor"]?.stringValue ?? ""
        return VaultResponse.json(
            [
                "request_id": .string(context.requestID), "lease_id": "", "renewable": false, "lease_duration": 0, "data": nil, "auth": nil,
                "warnings": nil, "wrap_info": Self.wrapInfo(info, wrappedAccessor: wrappedAccessor),
            ], status: .ok)
    }

    /// Wraps `answer` in its own audited unit of work (`sys.wrapping.wrap`, the request's caller and id):
    /// the request's own entry may already be committed (token creation), and a wrap is its own write.
    static func wrap(
        _ answer: JSONValue, tenant: Tenant, creationPath: String, ttlSeconds: Int64, runtime: CofferRuntime, context: CofferRequestContext,
        details: [String: String] = [:]
    ) async throws -> WrappingService.Info {
        let record = AuditRecord(
            time: runtime.clock.nowMillis, actor: context.work.actor, operation: "sys.wrapping.wrap", resourceType: "wrapping", resourceID: "",
            clientIP: context.clientIP, userAgent: "", requestID: context.requestID, status: 200, errorCode: "", request: .null, details: details)
        let work = runtime.configuration.auditEnabled ? UnitOfWork(record: record) : .unaudited()
        work.identify(tenantID: tenant.id, actor: context.work.actor) { $0 }
        let info = try await runtime.wrapping.wrap(answer, tenant: tenant, creationPath: creationPath, ttlSeconds: ttlSeconds, in: work)
        if let committed = work.committedEntry { runtime.auditCommitted(committed) }
        return info
    }

    /// Vault's `wrap_info`.
    static func wrapInfo(_ info: WrappingService.Info, wrappedAccessor: String) -> JSONValue {
        [
            "token": .string(info.token), "accessor": .string(info.record.accessor), "ttl": .int(info.record.ttlSeconds),
            "creation_time": .string(Timestamp.rfc3339(info.record.createdAt)), "creation_path": .string(info.record.creationPath),
            "wrapped_accessor": .string(wrappedAccessor), "format": "",
        ]
    }
}

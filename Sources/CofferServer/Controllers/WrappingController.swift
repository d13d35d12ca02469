import CofferCore
import HTTPTypes
import Hummingbird

/// Vault's `sys/wrapping/*`: unwrap (once), lookup, rewrap and wrap. The wrapping token is given in
/// the body (`token`, with the caller's own credential in the header, same tenant only) or as the
/// header credential itself.
public struct WrappingController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var wrapping: WrappingService { runtime.wrapping }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        for method in [HTTPRequest.Method.post, .put] {
            router.on("/v1/sys/wrapping/unwrap", method: method) { request, context in try await unwrap(request, context) }
            router.on("/v1/sys/wrapping/lookup", method: method) { request, context in try await lookup(request, context) }
            router.on("/v1/sys/wrapping/rewrap", method: method) { request, context in try await rewrap(request, context) }
            router.on("/v1/sys/wrapping/wrap", method: method) { request, context in try await wrap(request, context) }
        }
        router.get("/v1/sys/wrapping/lookup") { request, context in try await lookup(request, context) }
    }

    static let invalid = CofferError(.invalidRequest, "wrapping token is not valid or does not exist")

    /// The wrapping token of a request and the tenant the caller is bound to: with `token` in the body,
    /// the header credential authenticates the caller (its tenant must own the wrap); without, the
    /// header credential is the wrapping token and nothing else is asked.
    /// `lookup` (unauthenticated in Vault) also takes a body token without any header credential.
    func presented(
        _ request: Request, _ context: CofferRequestContext, anonymousBodyToken: Bool = false
    ) async throws -> (token: String, tenantID: String?) {
        let object = try await body.object(request, context, recording: false)
        try object.admit(["token"])
        if let token = try object.string("token"), !token.isEmpty {
            if anonymousBodyToken, Authenticator.credential(request) == nil {
                try await runtime.authenticator.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
                return (token, nil)
            }
            let caller = try await runtime.authenticator.authenticate(request, context)
            return (token, caller.tenant.id)
        }
        try await runtime.authenticator.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
        guard let header = Authenticator.credential(request), WrappingToken.looksValid(header) else { throw Self.invalid }
        return (header, nil)
    }

    /// Identifies the unit of work with the wrap's tenant when the wrapping token was the only credential.
    func identify(_ record: WrappedResponse, _ tenantID: String?, _ context: CofferRequestContext) async throws {
        guard tenantID == nil, let tenant = try await runtime.storage.tenants.tenant(id: record.tenantID) else { return }
        let actor = AuditActor(kind: "wrapping_token", id: record.accessor, role: "", displayName: "wrapping token")
        try runtime.authenticator.identify(tenant, actor, operation: nil, in: context.work)
    }

    func unwrap(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (token, tenantID) = try await presented(request, context)
        context.work.describe("sys.wrapping.unwrap", "wrapping", "")
        guard let found = try await wrapping.lookup(token), tenantID == nil || found.tenantID == tenantID else { throw Self.invalid }
        try await identify(found, tenantID, context)
        context.work.describe("sys.wrapping.unwrap", "wrapping", found.accessor)
        let (_, answer) = try await wrapping.unwrap(token, tenantID: found.tenantID, in: context.work)
        guard case .object(var fields) = answer else { throw CofferError(.storageCorrupt, "a wrapped response is malformed") }
        fields["request_id"] = .string(context.requestID)
        return VaultResponse.json(.object(fields), status: .ok)
    }

    func lookup(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (token, tenantID) = try await presented(request, context, anonymousBodyToken: true)
        guard let found = try await wrapping.lookup(token), tenantID == nil || found.tenantID == tenantID else { throw Self.invalid }
        return VaultResponse.data(
            [
                "creation_path": .string(found.creationPath), "creation_time": .string(Timestamp.rfc3339(found.createdAt)),
                "creation_ttl": .int(found.ttlSeconds),
            ], context: context)
    }

    /// `rewrap`: the answer moves to a new wrapping token with the same TTL; the old one is spent.
    func rewrap(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (token, tenantID) = try await presented(request, context)
        context.work.describe("sys.wrapping.rewrap", "wrapping", "")
        guard let found = try await wrapping.lookup(token), tenantID == nil || found.tenantID == tenantID,
            let tenant = try await runtime.storage.tenants.tenant(id: found.tenantID)
        else { throw Self.invalid }
        try await identify(found, tenantID, context)
        context.work.describe("sys.wrapping.rewrap", "wrapping", found.accessor)
        let (old, answer) = try await wrapping.unwrap(token, tenantID: found.tenantID, in: context.work)
        let info = try await WrapMiddleware.wrap(
            answer, tenant: tenant, creationPath: old.creationPath, ttlSeconds: old.ttlSeconds, runtime: runtime, context: context,
            details: ["rewrapped_from": old.accessor])
        return VaultResponse.envelope(
            data: nil, auth: nil, context: context,
            wrapInfo: WrapMiddleware.wrapInfo(info, wrappedAccessor: answer["auth"]?["accessor"]?.stringValue ?? ""))
    }

    /// `wrap {…}`: any JSON object, wrapped (the middleware seals the answer; 5 minutes unless
    /// `X-Vault-Wrap-TTL` says otherwise).
    func wrap(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        _ = try await runtime.authenticator.authenticate(request, context)
        context.work.describe("sys.wrapping.wrap", "wrapping", "")
        let object = try await body.object(request, context, recording: false)
        guard !object.isEmpty else { throw CofferError(.invalidRequest, "nothing to wrap: the body must be a non-empty JSON object") }
        return VaultResponse.data(.object(object), context: context)
    }
}

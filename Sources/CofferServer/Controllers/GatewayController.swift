import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The gateway: projects under `/v1/gateway/projects/{name}` (admins and modifiers write, viewers
/// read), and the proxy at `/v1/gateway/{tenant}/{project}/call/{route path}`. The tenant is in the
/// proxy's path because a browser's CORS preflight carries no credential to find it by.
public struct GatewayController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var gateway: GatewayService { runtime.gateway }
    var proxy: GatewayProxy { GatewayProxy(runtime: runtime) }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/gateway/projects") { request, context in try await list(request, context) }
        router.on("/v1/gateway/projects", method: .list) { request, context in try await list(request, context) }
        router.put("/v1/gateway/projects/:name") { request, context in try await put(request, context) }
        router.post("/v1/gateway/projects/:name") { request, context in try await put(request, context) }
        router.get("/v1/gateway/projects/:name") { request, context in try await read(request, context) }
        router.delete("/v1/gateway/projects/:name") { request, context in try await delete(request, context) }
        router.get("/v1/gateway/projects/:name/suspensions") { request, context in try await suspensions(request, context) }
        router.delete("/v1/gateway/projects/:name/suspensions/:client") { request, context in try await lift(request, context) }
        router.get("/v1/gateway/projects/:name/publishable-key") { request, context in try await publishableKey(request, context) }
        router.post("/v1/gateway/projects/:name/publishable-key/rotate") { request, context in try await rotateKey(request, context) }
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
            router.on("/v1/gateway/:tenant/:project/call/**", method: method) { request, context in try await call(request, context) }
        }
        router.on("/v1/gateway/:tenant/:project/call/**", method: .options) { request, context in try await preflight(request, context) }
    }

    func name(_ context: CofferRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), TransitKey.isValidName(name) else {
            throw CofferError(.notFound, "no gateway project of this name")
        }
        return name
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readGateway)
        context.work.describe("gateway.project.list", "gateway_project", "")
        return VaultResponse.data(["keys": .array(try await gateway.names(tenant: caller.tenant).map(JSONValue.string))], context: context)
    }

    func put(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: name)
        context.work.describe("gateway.project.write", "gateway_project", name)
        let document = JSONValue.object(try await body.object(request, context))
        let parsed = try GatewayProject.parse(name: name, document, environment: caller.tenant.environment)
        for (providerName, provider) in parsed.providers {
            try UpstreamTransport.checkCertificates(provider, path: "providers.\(providerName)")
        }
        try GatewayCertificateVerifier.checkBundles(parsed)
        let project = try await gateway.put(tenant: caller.tenant, name: name, document: document, in: context.work)
        return VaultResponse.data(project.document, context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .readGateway, target: name)
        context.work.describe("gateway.project.read", "gateway_project", name)
        return VaultResponse.data(try await gateway.project(tenant: caller.tenant, name: name).document, context: context)
    }

    func delete(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: name)
        context.work.describe("gateway.project.delete", "gateway_project", name)
        try await gateway.delete(tenant: caller.tenant, name: name, in: context.work)
        return VaultResponse.noContent()
    }

    func suspensions(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .readGateway, target: name)
        context.work.describe("gateway.suspension.list", "gateway_project", name)
        let list = try await gateway.suspensions(tenant: caller.tenant, project: name).map { entry -> JSONValue in
            ["client": .string(entry.client), "until": .string(Timestamp.rfc3339(entry.until)), "reason": .string(entry.reason)]
        }
        return VaultResponse.data(["suspensions": .array(list)], context: context)
    }

    func lift(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let client = context.parameters.get("client") ?? ""
        let caller = try await auth.authorize(request, context, .manageGateway, target: name)
        context.work.describe("gateway.suspension.lift", "gateway_client", "\(name)/\(client)")
        try await gateway.liftSuspension(tenant: caller.tenant, project: name, client: client, in: context.work)
        return VaultResponse.noContent()
    }

    /// The project's managed publishable key, issued or replaced first when none exists or it is due.
    /// Viewers (and `gateway:read` keys) may read it: it is a browser key, made to be public.
    func publishableKey(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .readGateway, target: name)
        context.work.describe("gateway.key.read", "gateway_project", name)
        let project = try await gateway.project(tenant: caller.tenant, name: name)
        guard let keys = gateway.managedKeys else { throw CofferError(.internalError, "managed keys are not configured") }
        let current = try await keys.current(tenant: caller.tenant, project: project, in: context.work)
        return VaultResponse.data(Self.describe(current), context: context)
    }

    /// Replaces the managed key now; `overlap_minutes` (default 0) keeps the previous one working.
    func rotateKey(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: name)
        context.work.describe("gateway.key.rotate", "gateway_project", name)
        let object = try await body.object(request, context)
        if let unknown = object.keys.first(where: { $0 != "overlap_minutes" }) {
            throw CofferError(.invalidRequest, "unknown field '\(unknown)' (known: overlap_minutes)")
        }
        let overlap = try object.int("overlap_minutes") ?? 0
        guard (0...1_440).contains(overlap) else { throw CofferError(.invalidRequest, "overlap_minutes must be 0-1440") }
        let project = try await gateway.project(tenant: caller.tenant, name: name)
        guard let keys = gateway.managedKeys else { throw CofferError(.internalError, "managed keys are not configured") }
        let current = try await keys.rotate(tenant: caller.tenant, project: project, overlapMillis: Int64(overlap) * 60_000, in: context.work)
        return VaultResponse.data(Self.describe(current), context: context)
    }

    static func describe(_ current: GatewayKeyService.Current) -> JSONValue {
        [
            "key": .string(current.key), "key_id": .string(current.keyID), "rotates_at": .string(Timestamp.rfc3339(current.rotatesAt)),
            "expires_at": .string(Timestamp.rfc3339(current.expiresAt)),
        ]
    }

    /// The route path after `/v1/gateway/{tenant}/{project}/call`, still percent-encoded.
    static func routePath(_ request: Request) -> String {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: false)
        return "/" + segments.dropFirst(6).joined(separator: "/")
    }

    /// A proxied call: the names, route path and body decoded here; the rules are the proxy's.
    func call(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let call = GatewayProxy.Call(
            tenant: context.parameters.get("tenant") ?? "", project: context.parameters.get("project") ?? "", routePath: Self.routePath(request),
            body: try await body.bytes(request))
        return try await proxy.call(call, request, context)
    }

    /// The anomaly a refusal counts as, if it is one the client caused.
    static func anomalyEvent(_ code: ErrorCode) -> AnomalyWindow.Event? {
        switch code {
        case .originNotAllowed: .originRefused
        case .invalidRequest, .malformedJSON, .routeNotFound, .permissionDenied, .payloadTooLarge: .failure
        default: nil
        }
    }

    /// A CORS preflight: 204 with the headers a browser needs when the origin is listed and a route of
    /// the project answers the requested method on this path; otherwise 403 without CORS headers. The
    /// answer is the same whether the tenant, the project or the origin is what is missing.
    func preflight(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let refusal = CofferError(.originNotAllowed, "this origin may not call this project")
        // Preflights carry no credential: they spend the anonymous per-address budget, and each one to an
        // existing tenant is audited there (a refused CORS request is always recorded).
        try await auth.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
        let tenant = try await runtime.storage.tenants.tenant(named: context.parameters.get("tenant") ?? "")
        if let tenant {
            try auth.identify(tenant, .anonymous, operation: nil, in: context.work)
            context.work.describe("gateway.preflight", "gateway_project", context.parameters.get("project") ?? "")
        }
        guard let origin = request.headers[.origin], let wanted = request.headers[.accessControlRequestMethod], let tenant,
            let project = try? await gateway.project(tenant: tenant, name: context.parameters.get("project") ?? ""),
            project.enabled, project.allows(origin: origin),
            let segments = RouteTemplate.decodedSegments(Self.routePath(request)),
            let route = project.routes(matching: segments).first(where: { $0.method == wanted.uppercased() })
        else { throw refusal }
        var allowedHeaders = ["authorization", "x-vault-token"] + route.requestHeaders
        if route.body != nil { allowedHeaders.append("content-type") }
        var headers = Self.corsHeaders(origin: origin, project: project, exposed: route.responseHeaders)
        headers.append(("Access-Control-Allow-Methods", route.method))
        headers.append(("Access-Control-Allow-Headers", allowedHeaders.joined(separator: ", ")))
        headers.append(("Access-Control-Max-Age", "600"))
        context.notes.corsHeaders = headers
        return Response(status: .noContent)
    }

    /// The CORS headers for an allowed origin: the origin itself (or `*` for a wildcard project),
    /// `Vary: Origin`, and the response headers a script may read. Never `Allow-Credentials`: callers
    /// authenticate with a header, not cookies.
    static func corsHeaders(origin: String, project: GatewayProject, exposed: [String]) -> [(String, String)] {
        let listed = project.lists(origin: origin)
        var headers = [("Access-Control-Allow-Origin", listed ? origin : "*"), ("Vary", "Origin")]
        let readable = exposed.filter { $0 != "content-type" }
        if !readable.isEmpty { headers.append(("Access-Control-Expose-Headers", readable.joined(separator: ", "))) }
        return headers
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        return String(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}

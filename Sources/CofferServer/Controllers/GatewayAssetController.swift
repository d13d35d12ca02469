import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Gateway projects' public assets: managed under `/v1/gateway/projects/{project}/assets/{name}`
/// (admins and modifiers write, viewers read), served to browsers at
/// `/v1/gateway/{tenant}/{project}/assets/{name}` with their digests, optionally behind an expiring
/// URL token.
public struct GatewayAssetController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var assets: GatewayAssetService { runtime.assets }

    /// Creates the controller. Upload bodies carry base64, a third larger than the asset.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: max(runtime.configuration.maxBodyBytes, GatewayAsset.maximumBytes * 4 / 3 + 4096))
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        let manage = "/v1/gateway/projects/:name/assets"
        router.get(RouterPath(manage)) { request, context in try await list(request, context) }
        router.on(RouterPath(manage), method: .list) { request, context in try await list(request, context) }
        router.put(RouterPath(manage + "/:asset")) { request, context in try await put(request, context) }
        router.post(RouterPath(manage + "/:asset")) { request, context in try await put(request, context) }
        router.get(RouterPath(manage + "/:asset")) { request, context in try await read(request, context) }
        router.delete(RouterPath(manage + "/:asset")) { request, context in try await delete(request, context) }
        router.post(RouterPath(manage + "/:asset/url")) { request, context in try await url(request, context) }
        router.get("/v1/gateway/:tenant/:project/assets/:asset") { request, context in try await serve(request, context, head: false) }
        router.head("/v1/gateway/:tenant/:project/assets/:asset") { request, context in try await serve(request, context, head: true) }
    }

    /// The project and asset names from the path (the project's validity is the service's to judge).
    func names(_ context: CofferRequestContext) -> (String, String) {
        (context.parameters.get("name") ?? context.parameters.get("project") ?? "", context.parameters.get("asset") ?? "")
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (project, _) = names(context)
        let caller = try await auth.authorize(request, context, .readGateway, target: project)
        context.work.describe("gateway.asset.list", "gateway_project", project)
        let list = try await assets.list(tenant: caller.tenant, project: project)
        return VaultResponse.data(
            ["keys": .array(list.map { .string($0.name) }), "assets": .array(list.map { describe($0, caller.tenant, project, request) })],
            context: context)
    }

    func put(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (project, name) = names(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: project)
        context.work.describe("gateway.asset.write", "gateway_asset", "\(project)/\(name)")
        let bytes = try await body.bytes(request)
        guard let document = JSONValue.parse(bytes) else { throw CofferError(.malformedJSON, "request body is not valid JSON") }
        var reader = try StrictObject(document, path: "")
        let text = try reader.string("content")
        let encoded = try reader.string("content_base64")
        let contentType = try reader.string("content_type")
        let requireToken = try reader.bool("require_token") ?? false
        try reader.finish()
        let content: [UInt8]
        switch (text, encoded) {
        case (let text?, nil): content = Array(text.utf8)
        case (nil, let encoded?):
            guard let decoded = Base64.decode(encoded) else { throw CofferError(.invalidRequest, "content_base64 is not base64") }
            content = decoded
        default: throw CofferError(.invalidRequest, "give the asset as exactly one of content (text) or content_base64")
        }
        let upload = GatewayAssetService.Upload(content: content, contentType: contentType, requireToken: requireToken)
        let asset = try await assets.put(tenant: caller.tenant, project: project, name: name, upload, in: context.work)
        return VaultResponse.data(describe(asset, caller.tenant, project, request), context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (project, name) = names(context)
        let caller = try await auth.authorize(request, context, .readGateway, target: project)
        context.work.describe("gateway.asset.read", "gateway_asset", "\(project)/\(name)")
        let asset = try await assets.describe(tenant: caller.tenant, project: project, name: name)
        return VaultResponse.data(describe(asset, caller.tenant, project, request), context: context)
    }

    func delete(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (project, name) = names(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: project)
        context.work.describe("gateway.asset.delete", "gateway_asset", "\(project)/\(name)")
        try await assets.delete(tenant: caller.tenant, project: project, name: name, in: context.work)
        return VaultResponse.noContent()
    }

    /// `POST …/assets/{name}/url {"ttl": "4h"}`: an expiring URL (default 4 h, at most 7 days).
    func url(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (project, name) = names(context)
        let caller = try await auth.authorize(request, context, .manageGateway, target: project)
        context.work.describe("gateway.asset.url", "gateway_asset", "\(project)/\(name)")
        let object = try await body.object(request, context)
        if let unknown = object.keys.first(where: { $0 != "ttl" }) { throw CofferError(.invalidRequest, "unknown field '\(unknown)' (known: ttl)") }
        let seconds = try object.duration("ttl") ?? 4 * 3600
        let token = try await assets.issueToken(tenant: caller.tenant, project: project, name: name, seconds: seconds)
        let asset = try await assets.describe(tenant: caller.tenant, project: project, name: name)
        let url = Self.publicURL(request, runtime, tenant: caller.tenant.name, project: project, name: name) + "?token=" + token.text
        context.work.addDetails(["expires_at": Timestamp.rfc3339(token.expiresAt * 1000)])
        var data: [String: JSONValue] = [
            "url": .string(url), "expires_at": .string(Timestamp.rfc3339(token.expiresAt * 1000)), "integrity": .string(asset.integrity),
        ]
        if let snippet = asset.snippet(url: url) { data["snippet"] = .string(snippet) }
        return VaultResponse.data(.object(data), context: context)
    }

    /// A public fetch: no credential; the project must be enabled, a browser's Origin listed, and a
    /// token (when given or required) valid for this asset now. Refusals are audited one by one.
    func serve(_ request: Request, _ context: CofferRequestContext, head: Bool) async throws -> Response {
        try await auth.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
        let (projectName, name) = names(context)
        guard let tenant = try await runtime.storage.tenants.tenant(named: context.parameters.get("tenant") ?? "") else {
            throw CofferError(.notFound, "no asset of this name in this project")
        }
        try auth.identify(tenant, .anonymous, operation: nil, in: context.work)
        context.work.describe("gateway.asset.fetch", "gateway_asset", "\(projectName)/\(name)")
        let project: GatewayProject
        do {
            project = try await runtime.gateway.project(tenant: tenant, name: projectName)
        } catch let error as CofferError where error.code == .notFound {
            throw CofferError(.notFound, "no asset of this name in this project")
        }
        guard project.enabled else { throw CofferError(.projectDisabled, "the gateway project '\(project.name)' is disabled") }
        if let origin = request.headers[.origin] {
            guard project.allows(origin: origin) else { throw CofferError(.originNotAllowed, "this origin may not load this project's assets") }
            context.notes.corsHeaders = GatewayController.corsHeaders(
                origin: origin, project: project, exposed: ["content-digest", "content-sha256"])
        }
        let token = request.uri.queryParameters.get("token")
        if let other = request.uri.queryParameters.first(where: { $0.key != "token" }) {
            throw CofferError(.invalidRequest, "unknown query parameter '\(other.key)' (known: token)")
        }
        let (asset, content) = try await assets.fetch(tenant: tenant, project: projectName, name: name, token: token)
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.eTag] = asset.etag
        headers[.contentDigest] = asset.contentDigest
        headers[.contentSHA256] = asset.sha256Hex
        headers[.contentTypeOptions] = "nosniff"
        headers[.cacheControl] = token == nil ? "no-cache" : "private, no-store"
        headers[.crossOriginResourcePolicy] = "cross-origin"
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(content.count)
        return Response(status: .ok, headers: headers, body: head ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: content)))
    }

    /// An asset's description as the API answers it.
    func describe(_ asset: GatewayAsset, _ tenant: Tenant, _ project: String, _ request: Request) -> JSONValue {
        let url = Self.publicURL(request, runtime, tenant: tenant.name, project: project, name: asset.name)
        var out: [String: JSONValue] = [
            "name": .string(asset.name), "content_type": .string(asset.contentType), "size": .int(asset.size),
            "sha256": .string(asset.sha256Hex), "integrity": .string(asset.integrity), "content_digest": .string(asset.contentDigest),
            "etag": .string(asset.etag), "require_token": .bool(asset.requireToken), "url": .string(url),
            "created_time": .string(Timestamp.rfc3339(asset.createdAt)), "updated_time": .string(Timestamp.rfc3339(asset.updatedAt)),
        ]
        if !asset.requireToken, let snippet = asset.snippet(url: url) { out["snippet"] = .string(snippet) }
        return .object(out)
    }

    /// The asset's public URL as the admin's own request reached this server (scheme and authority).
    static func publicURL(_ request: Request, _ runtime: CofferRuntime, tenant: String, project: String, name: String) -> String {
        let scheme = runtime.configuration.tlsEnabled ? "https" : "http"
        let authority = request.head.authority ?? "\(runtime.configuration.host):\(runtime.configuration.port)"
        return "\(scheme)://\(authority)/v1/gateway/\(RouteTemplate.percentEncode(tenant))/\(project)/assets/\(name)"
    }
}

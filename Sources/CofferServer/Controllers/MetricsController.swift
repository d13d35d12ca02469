import CofferCore
import HTTPTypes
import Hummingbird

/// `GET /metrics` and `GET /v1/sys/metrics?format=prometheus`: the Prometheus exposition, for callers
/// of the system tenant holding `metrics:read` (admin and auditor tokens, keys with that scope). The
/// metrics count every tenant's traffic, so no other tenant reads them. `metrics.listen` serves the same
/// text without a credential on a separate listener (``unauthenticatedRouter(runtime:)``).
public struct MetricsController: Sendable {
    let runtime: CofferRuntime

    /// The exposition's content type (Prometheus text format 0.0.4).
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/metrics") { request, context in try await scrape(request, context) }
        router.get("/v1/sys/metrics") { request, context in
            // Vault answers JSON unless `format=prometheus`; Coffer has only the Prometheus form.
            if let format = request.uri.queryParameters.get("format"), format != "prometheus" {
                throw CofferError(.invalidRequest, "format: Coffer serves metrics as format=prometheus only")
            }
            return try await scrape(request, context)
        }
    }

    func scrape(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .readMetrics)
        guard caller.tenant.isSystem else {
            throw CofferError(.permissionDenied, "permission denied: metrics cover every tenant; only the system tenant reads them")
        }
        context.work.describe("sys.metrics", "server", "")
        return await Self.exposition(runtime)
    }

    /// The exposition as a response.
    static func exposition(_ runtime: CofferRuntime) async -> Response {
        var response = VaultResponse.bytes(await runtime.metrics.exposition(runtime: runtime), status: .ok)
        response.headers[.contentType] = contentType
        return response
    }

    /// The router of the separate metrics listener: `GET /metrics` without a credential, nothing else.
    public static func unauthenticatedRouter(runtime: CofferRuntime) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/metrics") { _, _ in await exposition(runtime) }
        return router
    }
}

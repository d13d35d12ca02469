import Hummingbird

/// Counts every request by route template, method and status class, with its latency. Runs outside
/// ``HygieneMiddleware``, so it sees the status a client actually received (errors included).
public struct MetricsMiddleware: RouterMiddleware {
    /// The context type.
    public typealias Context = CofferRequestContext
    let metrics: CofferMetrics

    /// Creates the middleware.
    public init(metrics: CofferMetrics) {
        self.metrics = metrics
    }

    /// Handles a request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.request(
                route: context.endpointPath, method: request.method.rawValue, status: response.status.code, duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(route: context.endpointPath, method: request.method.rawValue, status: status, duration: ContinuousClock.now - started)
            throw error
        }
    }
}

import CofferCore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/sys/openapi` (and Vault's path, `GET /v1/sys/internal/specs/openapi`): the OpenAPI 3.1
/// document of the whole API. Public: it describes routes, never data.
public struct OpenAPIController: Sendable {
    /// Creates the controller.
    public init() {}

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        for path in ["/v1/sys/openapi", "/v1/sys/internal/specs/openapi"] {
            router.get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
            }
        }
    }
}

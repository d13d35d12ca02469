import CofferCore
import Hummingbird

/// While the keyring is sealed, refuses every request except health, seal-status and unseal with
/// 503 `SEALED` and Vault's text, `Vault is sealed`, before anything is read or audited.
public struct SealMiddleware: RouterMiddleware {
    /// The context type.
    public typealias Context = CofferRequestContext
    let keyring: Keyring

    /// Paths answered while sealed.
    static let open: Set<String> = ["/v1/sys/health", "/v1/sys/seal-status", "/v1/sys/unseal", "/v1/sys/init"]

    /// Creates the middleware.
    public init(keyring: Keyring) { self.keyring = keyring }

    /// Handles a request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if keyring.isSealed, !Self.open.contains(request.uri.path) { throw CofferError(.sealed, "Vault is sealed") }
        return try await next(request, context)
    }
}

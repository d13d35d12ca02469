import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// Per-request state: the request id and, once authenticated, the caller.
public struct CofferRequestContext: RequestContext {
    /// Hummingbird's core storage.
    public var coreContext: CoreRequestContextStorage
    /// The id returned in `X-Request-Id` and in bodies as `request_id`.
    public var requestID: String
    /// The peer's IP address, when the transport knows it.
    public var clientIP: String

    /// Creates a context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
        requestID = UUID().uuidString.lowercased()
        clientIP = source.channel.remoteAddress?.ipAddress ?? ""
    }
}

import HummingbirdCore
import Logging
import NIOCore

/// Wraps a server child channel so that ``ListMethodRewriter`` runs in front of its HTTP decoder.
public struct ListMethodChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    /// The base channel's value.
    public typealias Value = BaseChannel.Value
    let baseChannel: BaseChannel

    /// Wraps `baseChannel`.
    public init(_ baseChannel: BaseChannel) { self.baseChannel = baseChannel }

    /// Adds the rewriter, then sets up the base channel.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ListMethodRewriter())
        }.flatMap {
            self.baseChannel.setup(channel: channel, logger: logger)
        }
    }

    /// Delegates to the base channel.
    public func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension ListMethodChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    /// The base channel's responder.
    public var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 that also accepts Vault's `LIST` verb, and gives the responses the framework writes
    /// itself (malformed requests) a request id, the security headers and a JSON error body.
    public static func http1WithList(tlsEnabled: Bool = false) -> HTTPServerBuilder {
        .init { responder in
            ListMethodChannel(
                HTTP1Channel(
                    responder: responder,
                    configuration: .init(additionalChannelHandlers: [FrameworkResponseHandler(tlsEnabled: tlsEnabled)])))
        }
    }
}

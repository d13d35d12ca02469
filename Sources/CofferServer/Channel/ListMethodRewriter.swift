import Foundation
import NIOCore

/// Accepts Vault's `LIST` verb, which SwiftNIO's HTTP/1 parser (llhttp) rejects as an unknown method.
///
/// Sits in front of the HTTP decoder and rewrites a request line `LIST /path HTTP/1.1` into
/// `GET /path?list=true HTTP/1.1`, which Vault defines as the same request. It follows request
/// framing by `Content-Length` only; on anything it does not follow exactly (chunked bodies,
/// repeated or malformed `Content-Length`, heads over 64 KiB) it stops rewriting for the rest of the
/// connection and passes bytes through untouched, so the real parser stays the only judge of framing.
/// The byte rules are in ``ListFraming``.
final class ListMethodRewriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var framing = ListFraming()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        if case .passthrough = framing.state {
            context.fireChannelRead(wrapInboundOut(input))
            return
        }
        // Fast path: whole heads with nothing to rewrite (nearly every read) are forwarded untouched, uncopied.
        if let next = input.withUnsafeReadableBytes({ ListFraming.follow($0, from: framing.state) }) {
            framing.state = next
            context.fireChannelRead(wrapInboundOut(input))
            return
        }
        let output = framing.feed(Array(input.readableBytesView))
        if !output.isEmpty { context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: output))) }
    }
}

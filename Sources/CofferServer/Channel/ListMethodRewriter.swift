import Foundation
import NIOCore

/// Accepts Vault's `LIST` verb, which SwiftNIO's HTTP/1 parser (llhttp) rejects as an unknown method.
///
/// Sits in front of the HTTP decoder and rewrites a request line `LIST /path HTTP/1.1` into
/// `GET /path?list=true HTTP/1.1`, which Vault defines as the same request. It follows request
/// framing by `Content-Length` only; on anything it does not follow exactly (chunked bodies,
/// repeated or malformed `Content-Length`, heads over 64 KiB) it stops rewriting for the rest of the
/// connection and passes bytes through untouched, so the real parser stays the only judge of framing.
final class ListMethodRewriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum State {
        case head([UInt8])
        case body(Int)
        case passthrough
    }

    static let maximumHeadBytes = 64 * 1024
    private var state = State.head([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if case .passthrough = state {
            context.fireChannelRead(wrapInboundOut(input))
            return
        }
        var output = context.channel.allocator.buffer(capacity: input.readableBytes + 16)
        while input.readableBytes > 0 {
            switch state {
            case .passthrough:
                output.writeBuffer(&input)
            case .body(let remaining):
                let count = min(remaining, input.readableBytes)
                if var slice = input.readSlice(length: count) { output.writeBuffer(&slice) }
                state = remaining - count == 0 ? .head([]) : .body(remaining - count)
            case .head(var accumulated):
                let startCount = accumulated.count
                accumulated.append(contentsOf: input.readableBytesView)
                guard let end = Self.headEnd(accumulated, searchFrom: max(0, startCount - 3)) else {
                    input.moveReaderIndex(forwardBy: input.readableBytes)
                    if accumulated.count > Self.maximumHeadBytes {
                        output.writeBytes(accumulated)
                        state = .passthrough
                    } else {
                        state = .head(accumulated)
                    }
                    continue
                }
                // Bytes of this read that belong to the head; the rest stays in `input`.
                input.moveReaderIndex(forwardBy: end - startCount)
                let head = Array(accumulated[..<end])
                let (rewritten, bodyLength) = Self.rewrite(head)
                output.writeBytes(rewritten)
                switch bodyLength {
                case .none: state = .passthrough
                case .some(0): state = .head([])
                case .some(let length): state = .body(length)
                }
            }
        }
        if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
    }

    /// Index just past the first `\r\n\r\n`, searching from `start`.
    static func headEnd(_ bytes: [UInt8], searchFrom start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    /// The head with `LIST` rewritten, and the body length (`nil` = framing not followed: pass through).
    static func rewrite(_ head: [UInt8]) -> ([UInt8], Int?) {
        let text = String(decoding: head, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        var contentLength: Int? = 0
        var sawLength = false
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name == "transfer-encoding" { return (head, nil) }
            if name == "content-length" {
                guard !sawLength, let length = Int(value), length >= 0 else { return (head, nil) }
                sawLength = true
                contentLength = length
            }
        }
        guard lines[0].hasPrefix("LIST ") else { return (head, contentLength) }
        let parts = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return (head, nil) }
        let target = String(parts[1])
        let separator = target.contains("?") ? "&" : "?"
        lines[0] = "GET \(target)\(separator)list=true \(parts[2])"
        return (Array(lines.joined(separator: "\r\n").utf8), contentLength)
    }
}

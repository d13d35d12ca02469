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
        // Fast path: whole heads with nothing to rewrite (nearly every read) are forwarded untouched, uncopied.
        if let next = input.withUnsafeReadableBytes({ Self.follow($0, from: state) }) {
            state = next
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

    /// The state after `bytes`, when they hold only complete heads without `LIST` (and body bytes);
    /// `nil` when a head must be rewritten or is cut off, so the copying path takes over.
    static func follow(_ bytes: UnsafeRawBufferPointer, from start: State) -> State? {
        var state = start
        var index = 0
        while index < bytes.count {
            switch state {
            case .passthrough:
                return .passthrough
            case .body(let remaining):
                let count = min(remaining, bytes.count - index)
                index += count
                state = remaining - count == 0 ? .head([]) : .body(remaining - count)
            case .head(let accumulated):
                guard accumulated.isEmpty else { return nil }
                var end = index
                while end + 3 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10 && bytes[end + 2] == 13 && bytes[end + 3] == 10) {
                    end += 1
                }
                guard end + 3 < bytes.count, end - index <= maximumHeadBytes else { return nil }
                let head = UnsafeRawBufferPointer(rebasing: bytes[index..<(end + 4)])
                guard !head.starts(with: listPrefix) else { return nil }
                index = end + 4
                switch bodyLength(head) {
                case .none: state = .passthrough
                case .some(0): state = .head([])
                case .some(let length): state = .body(length)
                }
            }
        }
        return state
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
        let length = head.withUnsafeBytes { bodyLength($0) }
        guard head.starts(with: listPrefix), let requestLineEnd = head.firstIndex(of: 13) else { return (head, length) }
        let requestLine = String(decoding: head[..<requestLineEnd], as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return (head, nil) }
        let target = String(parts[1])
        let separator = target.contains("?") ? "&" : "?"
        return (Array("GET \(target)\(separator)list=true \(parts[2])".utf8) + head[requestLineEnd...], length)
    }

    /// The body length a head announces (0 without `Content-Length`); `nil` when framing is not followed
    /// (`Transfer-Encoding`, a repeated or malformed `Content-Length`). Scans bytes only.
    static func bodyLength(_ head: UnsafeRawBufferPointer) -> Int? {
        var contentLength = 0
        var sawLength = false
        var inRequestLine = true
        var lineStart = 0
        var index = 0
        while index + 1 < head.count {
            guard head[index] == 13, head[index + 1] == 10 else {
                index += 1
                continue
            }
            if inRequestLine {
                inRequestLine = false
            } else if index > lineStart {
                if nameMatches(head, lineStart, index, transferEncoding) { return nil }
                if nameMatches(head, lineStart, index, contentLengthName) {
                    guard !sawLength, let length = decimal(head, lineStart + contentLengthName.count + 1, index) else { return nil }
                    sawLength = true
                    contentLength = length
                }
            }
            index += 2
            lineStart = index
        }
        return contentLength
    }

    static let listPrefix = Array("LIST ".utf8)
    static let transferEncoding = Array("transfer-encoding".utf8)
    static let contentLengthName = Array("content-length".utf8)

    /// Whether the header line `[start, end)` is `name:` (name compared case-insensitively; `name` is lowercase).
    static func nameMatches(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ name: [UInt8]) -> Bool {
        guard end - start > name.count, bytes[start + name.count] == UInt8(ascii: ":") else { return false }
        for offset in 0..<name.count where bytes[start + offset] | 0x20 != name[offset] { return false }
        return true
    }

    /// A header value of decimal digits between optional spaces or tabs; `nil` for anything else.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var first = start
        var last = end
        while first < last, bytes[first] == 32 || bytes[first] == 9 { first += 1 }
        while last > first, bytes[last - 1] == 32 || bytes[last - 1] == 9 { last -= 1 }
        guard first < last, last - first <= 18 else { return nil }
        var value = 0
        for byte in bytes[first..<last] {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
}

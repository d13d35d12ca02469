import CofferCore
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Gives responses that Hummingbird writes itself, without the router (a request the HTTP parser
/// rejects: `GARBAGE\r\n\r\n`, duplicate `Content-Length`, …), what every Coffer response carries: an
/// `X-Request-Id`, the security headers, and a JSON error body with a stable code. Responses from the
/// router already carry a request id and pass through untouched.
final class FrameworkResponseHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let tlsEnabled: Bool

    init(tlsEnabled: Bool) { self.tlsEnabled = tlsEnabled }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.headerFields[.requestID] == nil else {
            context.write(data, promise: promise)
            return
        }
        let requestID = CofferRequestContext.makeRequestID()
        let code = ErrorStatus.code(for: head.status)
        let message = head.status.code == 400 ? "malformed HTTP request" : head.status.reasonPhrase
        let body = JSONValue.object(
            ["errors": [.string(message)], "code": .string(code.rawValue), "request_id": .string(requestID)]
        ).canonicalBytes()
        head.headerFields[.requestID] = requestID
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(body.count)
        SecurityHeaders.apply(to: &head.headerFields, tlsEnabled: tlsEnabled)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: promise)
    }
}

/// The headers every response carries.
enum SecurityHeaders {
    /// Adds the security headers (and HSTS when serving TLS). `Cache-Control` is `no-store` unless the
    /// handler chose otherwise (public gateway assets are revalidated by their strong ETag).
    static func apply(to headers: inout HTTPFields, tlsEnabled: Bool) {
        headers[.contentTypeOptions] = "nosniff"
        headers[.frameOptions] = "DENY"
        headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        headers[.referrerPolicy] = "no-referrer"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
        if tlsEnabled { headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains" }
    }
}

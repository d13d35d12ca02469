import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import NIOCore
import NIOSSL
import Synchronization

/// An upstream API for the gateway tests: a real HTTP server on a loopback port that records every
/// request it receives and answers a few fixed routes.
final class TestUpstream: Sendable {
    struct Received: Sendable {
        let method: String
        let path: String
        let query: String?
        let headers: [String: String]
        let body: String
    }

    let received = Mutex<[Received]>([])
    /// How many more `/v2/hooks` posts answer 503 before one answers 204 (a flaky webhook receiver).
    let hookFailures = Mutex<Int>(0)
    /// What `/v2/jwks.json` answers (an identity provider's keys).
    let jwks = Mutex<String>(#"{"keys":[]}"#)

    var count: Int { received.withLock { $0.count } }
    var last: Received? { received.withLock { $0.last } }

    /// Runs the upstream, calls `body` with its port, then stops it.
    /// With `tls`, it serves HTTPS (and asks for client certificates if the configuration says so).
    func run(tls: TLSConfiguration? = nil, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.middlewares.add(Recorder(upstream: self))
        router.get("/v2/forecast/:city") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.setCookie] = "tracking=1"
            headers[HTTPField.Name("X-Ratelimit-Remaining")!] = "9"
            headers[HTTPField.Name("X-Upstream-Internal")!] = "secret-topology"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"temperature":21}"#)))
        }
        router.get("/v2/jwks.json") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: self.jwks.withLock { $0 })))
        }
        router.post("/v2/orders") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .created, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: bytes))
        }
        router.post("/v2/hooks") { _, _ -> Response in
            let fail = self.hookFailures.withLock { left -> Bool in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            return Response(status: fail ? .serviceUnavailable : .noContent)
        }
        router.get("/v2/redirect") { _, _ -> Response in
            Response(status: .found, headers: [.location: "http://169.254.169.254/latest/meta-data/"])
        }
        router.get("/v2/big") { _, _ -> Response in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)))
        }
        router.get("/v2/chunked/:kilobytes") { _, context -> Response in
            // No Content-Length: the body arrives in 1 KiB chunks, a little apart.
            let count = Int(context.parameters.get("kilobytes") ?? "") ?? 1
            let chunks = AsyncStream<ByteBuffer> { continuation in
                Task {
                    for _ in 0..<count {
                        continuation.yield(ByteBuffer(repeating: UInt8(ascii: "y"), count: 1024))
                        try? await Task.sleep(for: .milliseconds(2))
                    }
                    continuation.finish()
                }
            }
            return Response(status: .ok, body: ResponseBody(asyncSequence: chunks))
        }
        router.get("/v2/slow") { _, _ -> Response in
            try await Task.sleep(for: .seconds(3))
            return Response(status: .ok)
        }
        let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0))
        if let tls {
            let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls), configuration: configuration)
            try await app.test(.live) { client in
                guard let port = client.port else { throw CofferError(.internalError, "the test upstream has no port") }
                try await body(port)
            }
        } else {
            let app = Application(router: router, configuration: configuration)
            try await app.test(.live) { client in
                guard let port = client.port else { throw CofferError(.internalError, "the test upstream has no port") }
                try await body(port)
            }
        }
    }

    struct Recorder: RouterMiddleware {
        typealias Context = BasicRequestContext
        let upstream: TestUpstream
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers {
                headers[field.name.canonicalName, default: ""] += headers[field.name.canonicalName] == nil ? field.value : ", \(field.value)"
            }
            upstream.received.withLock {
                $0.append(
                    Received(
                        method: request.method.rawValue, path: request.uri.path, query: request.uri.query, headers: headers,
                        body: String(buffer: bytes)))
            }
            return try await next(request, context)
        }
    }
}

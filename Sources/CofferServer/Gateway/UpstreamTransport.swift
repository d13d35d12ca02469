import AsyncHTTPClient
import CofferCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Calls upstreams for the gateway. The provider's host is resolved here, every address is checked
/// against ``UpstreamAddressPolicy`` (unless the provider is internal), and the connection is pinned to
/// the checked address (AsyncHTTPClient's `dnsOverride`), so a name that resolves differently a moment
/// later cannot redirect the call. Redirects are never followed; answers are read up to the provider's
/// size limit.
public final class UpstreamTransport: Sendable {
    private let clients = Mutex<[String: HTTPClient]>([:])
    /// Set by ``shutdown()``: no client is made after it (a late alert delivery or in-flight call gets
    /// `UPSTREAM_UNAVAILABLE` instead of a client nobody would close).
    private let closed = Mutex(false)

    /// Creates a transport.
    public init() {}

    /// An upstream answer, read whole (for small documents such as a JWKS).
    public struct Answer: Sendable {
        /// Status code.
        public var status: Int
        /// Headers passed back (allow-listed).
        public var headers: [(String, String)]
        /// The body.
        public var body: ByteBuffer
    }

    /// An upstream answer whose body is still arriving: passed on to the client as it comes, cut off
    /// (the connection closed) if it grows past the provider's limit.
    public struct Streamed: Sendable {
        /// Status code.
        public var status: Int
        /// Headers passed back (allow-listed).
        public var headers: [(String, String)]
        /// The length the upstream declared, if it did.
        public var declaredLength: Int?
        /// The body.
        public var body: LimitedBody
    }

    /// Performs `call` and reads the whole answer (up to the provider's limit).
    public func perform(_ call: GatewayService.UpstreamCall) async throws -> Answer {
        let streamed = try await stream(call)
        var body = ByteBuffer()
        do {
            for try await chunk in streamed.body { body.writeImmutableBuffer(chunk) }
        } catch let error as CofferError {
            throw error
        } catch {
            throw Self.translate(error)
        }
        return Answer(status: streamed.status, headers: streamed.headers, body: body)
    }

    /// Performs `call` up to the answer's head; the body streams. An answer that declares a length
    /// past the provider's limit is refused before anything reaches the client.
    public func stream(_ call: GatewayService.UpstreamCall) async throws -> Streamed {
        let provider = call.provider
        let address = try await Self.checkedAddress(host: provider.host, allowInternal: provider.allowInternal)
        let client = try client(for: provider, pinnedTo: address, clientKeyPEM: call.clientKeyPEM)
        var request = HTTPClientRequest(url: call.url)
        request.method = HTTPMethod(rawValue: call.method)
        for (name, value) in call.headers { request.headers.add(name: name, value: value) }
        if let body = call.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .milliseconds(Int64(provider.readTimeoutMs)))
        } catch {
            throw Self.translate(error)
        }
        let declared = response.headers.first(name: "content-length").flatMap { Int($0) }
        if let declared, declared > provider.maxResponseBytes {
            throw CofferError(.upstreamResponseTooLarge, "the upstream's answer exceeds \(provider.maxResponseBytes) bytes")
        }
        var headers: [(String, String)] = []
        for header in response.headers where call.responseHeaders.contains(header.name.lowercased()) {
            guard GatewayHeaders.isSafeValue(header.value) else { continue }
            headers.append((header.name.lowercased(), header.value))
        }
        return Streamed(
            status: Int(response.status.code), headers: headers, declaredLength: declared,
            body: LimitedBody(base: response.body, limit: provider.maxResponseBytes))
    }

    /// An upstream body that fails with `UPSTREAM_RESPONSE_TOO_LARGE` once it passes `limit` bytes, and
    /// with Coffer's upstream codes (never the library's text) when the upstream breaks off.
    public struct LimitedBody: AsyncSequence, Sendable {
        /// Chunks of the body.
        public typealias Element = ByteBuffer
        let base: HTTPClientResponse.Body
        let limit: Int

        /// Iterates the body.
        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: HTTPClientResponse.Body.AsyncIterator
            let limit: Int
            var seen = 0

            /// The next chunk.
            public mutating func next() async throws -> ByteBuffer? {
                let chunk: ByteBuffer?
                do {
                    chunk = try await base.next()
                } catch {
                    throw UpstreamTransport.translate(error)
                }
                guard let chunk else { return nil }
                seen += chunk.readableBytes
                guard seen <= limit else {
                    throw CofferError(.upstreamResponseTooLarge, "the upstream's answer exceeds \(limit) bytes")
                }
                return chunk
            }
        }

        /// Starts iterating.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
    }

    /// The TLS settings of a provider with its own CA bundle or client certificate; `UPSTREAM_REFUSED`
    /// (saying which part, never its content) when they cannot be used.
    static func tls(_ provider: GatewayProvider, clientKeyPEM: String?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let bundle = provider.caBundle {
            guard let roots = try? NIOSSLCertificate.fromPEMBytes(Array(bundle.utf8)), !roots.isEmpty else {
                throw CofferError(.upstreamRefused, "the provider's ca_bundle holds no usable certificate")
            }
            tls.trustRoots = .certificates(roots)
        }
        if let chainText = provider.clientCertificate, let clientKeyPEM {
            guard let chain = try? NIOSSLCertificate.fromPEMBytes(Array(chainText.utf8)), !chain.isEmpty else {
                throw CofferError(.upstreamRefused, "the provider's client_certificate holds no usable certificate")
            }
            guard let key = try? NIOSSLPrivateKey(bytes: Array(clientKeyPEM.utf8), format: .pem) else {
                throw CofferError(.upstreamRefused, "the provider's client_key is not a usable PEM private key")
            }
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        return tls
    }

    /// Whether a provider's certificates parse (checked when a project is saved).
    public static func checkCertificates(_ provider: GatewayProvider, path: String) throws {
        for (name, text) in [("ca_bundle", provider.caBundle), ("client_certificate", provider.clientCertificate)] {
            guard let text else { continue }
            guard let parsed = try? NIOSSLCertificate.fromPEMBytes(Array(text.utf8)), !parsed.isEmpty else {
                throw CofferError(.invalidRequest, "'\(path).\(name)' holds no certificate that parses")
            }
        }
    }

    /// The address to connect to: the first the host resolves to, after every one it resolves to
    /// passed the policy (a name with one private address among public ones is refused).
    static func checkedAddress(host: String, allowInternal: Bool) async throws -> String {
        let addresses = try await resolve(host)
        guard let first = addresses.first else { throw CofferError(.upstreamRefused, "the upstream host does not resolve") }
        if !allowInternal {
            for address in addresses where !UpstreamAddressPolicy.isPublic(address.bytes) {
                throw CofferError(
                    .upstreamRefused,
                    "the upstream host resolves to a loopback, private, link-local or reserved address; mark the provider allow_internal if that is intended"
                )
            }
        }
        return first.text
    }

    struct Resolved {
        var bytes: [UInt8]
        var text: String
    }

    /// An address literal as is; a name with getaddrinfo on NIO's thread pool (it blocks).
    static func resolve(_ host: String) async throws -> [Resolved] {
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 {
            return [Resolved(bytes: withUnsafeBytes(of: &ipv4) { Array($0) }, text: host)]
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, host, &ipv6) == 1 {
            return [Resolved(bytes: withUnsafeBytes(of: &ipv6) { Array($0) }, text: host)]
        }
        return try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let start = list else {
                throw CofferError(.upstreamRefused, "the upstream host does not resolve")
            }
            defer { freeaddrinfo(list) }
            var out: [Resolved] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = start
            while let entry = cursor {
                if let address = entry.pointee.ai_addr {
                    if entry.pointee.ai_family == AF_INET {
                        var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                        let bytes = withUnsafeBytes(of: &ipv4) { Array($0) }
                        out.append(Resolved(bytes: bytes, text: bytes.map(String.init).joined(separator: ".")))
                    } else if entry.pointee.ai_family == AF_INET6 {
                        var ipv6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                        let bytes = withUnsafeBytes(of: &ipv6) { Array($0) }
                        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                        inet_ntop(AF_INET6, &ipv6, &text, socklen_t(text.count))
                        out.append(
                            Resolved(bytes: bytes, text: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
                    }
                }
                cursor = entry.pointee.ai_next
            }
            return out
        }
    }

    /// One client per provider host, pinned address, timeouts and TLS settings; redirects off.
    func client(for provider: GatewayProvider, pinnedTo address: String, clientKeyPEM: String?) throws -> HTTPClient {
        var tlsDigest = ""
        if provider.caBundle != nil || clientKeyPEM != nil {
            let material =
                Array((provider.caBundle ?? "").utf8) + [0] + Array((provider.clientCertificate ?? "").utf8) + [0]
                + Array((clientKeyPEM ?? "").utf8)
            tlsDigest = SHA256.hash(data: material).map { String(format: "%02x", $0) }.joined()
        }
        let key = "\(provider.host)|\(address)|\(provider.connectTimeoutMs)|\(provider.readTimeoutMs)|\(provider.maxConnections)|\(tlsDigest)"
        if let existing = clients.withLock({ $0[key] }) { return existing }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(provider.connectTimeoutMs)), read: .milliseconds(Int64(provider.readTimeoutMs))))
        configuration.dnsOverride = [provider.host: address]
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = provider.maxConnections
        if !tlsDigest.isEmpty { configuration.tlsConfiguration = try Self.tls(provider, clientKeyPEM: clientKeyPEM) }
        let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let (client, discarded) = clients.withLock { clients -> (HTTPClient?, [HTTPClient]) in
            // Checked under the clients' lock, which shutdown() also takes: no client slips in after it.
            if closed.withLock({ $0 }) { return (nil, [created]) }
            if let existing = clients[key] { return (existing, [created]) }
            var discarded: [HTTPClient] = []
            if clients.count >= 256 {
                discarded = Array(clients.values)
                clients.removeAll()
            }
            clients[key] = created
            return (created, discarded)
        }
        for old in discarded { old.shutdown { _ in } }
        guard let client else { throw CofferError(.upstreamUnavailable, "the server is shutting down") }
        return client
    }

    /// Closes every upstream client; later calls make new ones (sealing drops clients holding keys).
    public func closeClients() async {
        let all = clients.withLock { clients -> [HTTPClient] in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for client in all { try? await client.shutdown() }
    }

    /// Closes every upstream client for good: the server is stopping.
    public func shutdown() async {
        clients.withLock { _ in closed.withLock { $0 = true } }
        await closeClients()
    }

    static func translate(_ error: any Error) -> CofferError {
        if let error = error as? CofferError { return error }
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return CofferError(.upstreamTimeout, "the upstream did not answer in time")
            }
        }
        return CofferError(.upstreamUnavailable, "the upstream could not be reached or broke off")
    }
}

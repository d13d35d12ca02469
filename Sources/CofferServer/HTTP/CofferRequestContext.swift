import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL
import Synchronization

/// Per-request state: the request id and, once authenticated, the caller.
public struct CofferRequestContext: RequestContext {
    /// Hummingbird's core storage.
    public var coreContext: CoreRequestContextStorage
    /// The id returned in `X-Request-Id` and in bodies as `request_id`.
    public var requestID: String
    /// The peer's IP address, when the transport knows it.
    public var clientIP: String
    /// The request's unit of work: its audit record, passed explicitly to every service that writes.
    public let work: UnitOfWork
    /// Facts that end up in response headers (the tightest rate limit seen).
    let notes = RequestNotes()
    /// The connection, for what only it knows (the TLS client certificate).
    let channel: (any Channel)?

    /// Creates a context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
        requestID = Self.makeRequestID()
        clientIP = source.channel.remoteAddress?.ipAddress ?? ""
        channel = source.channel
        work = UnitOfWork(
            record: AuditRecord(
                time: 0, actor: .anonymous, operation: "", resourceType: "http", resourceID: "", clientIP: clientIP, userAgent: "",
                requestID: requestID, status: 0, errorCode: "", request: .null))
    }

    /// The client certificate the peer presented over TLS (not yet checked against anything), if any.
    func clientCertificate() async -> NIOSSLCertificate? {
        guard let channel else { return nil }
        return try? await channel.nioSSL_peerCertificate().get()
    }

    /// Request ids: a random per-process half and a counter, formatted as a lowercase UUID. Unique
    /// within and across processes without a system call per request; they are not secrets.
    static let processHalf: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()
    static let counter = Atomic<UInt64>(0)

    /// The next request id.
    static func makeRequestID() -> String {
        let sequence = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, value) in [processHalf, sequence].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int((value >> UInt64(60 - 4 * nibble)) & 0xf)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }
}

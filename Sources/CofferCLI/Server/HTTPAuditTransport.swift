import AsyncHTTPClient
import CofferServer
import NIOCore

/// The audit HTTP sink's transport: AsyncHTTPClient, 10 s timeout per attempt.
struct HTTPAuditTransport: AuditHTTPTransport {
    func post(url: String, body: [UInt8]) async -> Bool {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-ndjson")
        request.body = .bytes(ByteBuffer(bytes: body))
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) else { return false }
        return (200..<300).contains(response.status.code)
    }
}

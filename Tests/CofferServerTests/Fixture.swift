import CofferCore
import CofferServer
import CofferStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization

/// Log lines captured from the server, to prove no secret reaches them.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "coffer.test") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    var all: String { lines.withLock { $0.joined(separator: "\n") } }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
        }
    }
}

/// A Coffer server on a fresh SQLite file with a real keyring, and helpers to call it.
struct Fixture: Sendable {
    let runtime: CofferRuntime
    let rootToken: String
    let clock: ManualClock
    let logs: LogCapture
    let storage: SQLStorage
    let directory: String
    /// The root key the keyring was opened with (base64), for unseal tests.
    let rootKey: String

    static func make(
        envReferences: [String] = [], environment: [String: String] = [:], maxBodyBytes: Int = 1 << 20,
        auditTransport: (any AuditHTTPTransport)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> Fixture {
        let directory = NSTemporaryDirectory() + "coffer-server-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logs = LogCapture()
        let clock = ManualClock(millis: 1_790_000_000_000)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.storageURL = "sqlite://\(directory)/coffer.db"
        configuration.envReferencePatterns = envReferences
        configuration.maxBodyBytes = maxBodyBytes
        configure(&configuration)
        let storage = try await SQLStorage.open(url: configuration.storageURL, clock: clock, logger: logs.logger)
        let rootKey = SecureRandom.bytes(32)
        let keyring = try await Keyring.open(storage: storage, source: .key(rootKey, origin: "test"), clock: clock)
        let runtime = try CofferRuntime(
            configuration: configuration, storage: storage, keyring: keyring, environment: environment, clock: clock, storageType: "sqlite",
            auditTransport: auditTransport, logger: logs.logger)
        guard let (_, token) = try await runtime.tenants.initialise(name: "root", environment: .development) else {
            throw CofferError(.internalError, "fresh storage was already initialised")
        }
        return Fixture(
            runtime: runtime, rootToken: token, clock: clock, logs: logs, storage: storage, directory: directory, rootKey: Base64.encode(rootKey))
    }

    /// Runs `body` against the router (no sockets).
    func test(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = Application(router: CofferApplication.router(runtime: runtime, logger: logs.logger), logger: logs.logger)
        // Shut down even when the body throws: a runtime dropped with open upstream clients would crash the run.
        do {
            try await app.test(.router) { client in try await body(Client(client: client)) }
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` against a real server on a loopback port (with Coffer's channel setup).
    func testLive(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let app = try CofferApplication.make(runtime: runtime, logger: logs.logger)
        do {
            try await app.test(.live) { client in try await body(Client(client: client)) }
        } catch {
            await runtime.shutdown()
            throw error
        }
        await runtime.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A test client that speaks JSON.
    struct Client: Sendable {
        let client: any TestClientProtocol

        struct Reply: Sendable {
            let status: HTTPResponse.Status
            let headers: HTTPFields
            let body: JSONValue
            let raw: String
            var code: String? { body["code"]?.stringValue }
            var data: JSONValue { body["data"] ?? .null }
        }

        @discardableResult
        func call(
            _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, bearer: String? = nil, namespace: String? = nil,
            json: JSONValue? = nil, rawBody: [UInt8]? = nil, headers extra: [(String, String)] = []
        ) async throws -> Reply {
            var headers = HTTPFields()
            for (name, value) in extra {
                if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
            }
            if let token { headers[.vaultToken] = token }
            if let bearer { headers[.authorization] = "Bearer \(bearer)" }
            if let namespace { headers[.vaultNamespace] = namespace }
            var body: ByteBuffer?
            if let json { body = ByteBuffer(bytes: json.canonicalBytes()) }
            if let rawBody { body = ByteBuffer(bytes: rawBody) }
            if body != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
            var buffer = response.body
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            return Reply(
                status: response.status, headers: response.headers, body: bytes.isEmpty ? .null : (JSONValue.parse(bytes) ?? .null),
                raw: String(decoding: bytes, as: UTF8.self))
        }

        /// Creates a token in the caller's tenant and returns it.
        func token(_ parent: String, role: String, ttl: String? = nil, namespace: String? = nil) async throws -> String {
            var body: [String: JSONValue] = ["role": .string(role)]
            if let ttl { body["ttl"] = .string(ttl) }
            let reply = try await call(.post, "/v1/auth/token/create", token: parent, namespace: namespace, json: .object(body))
            guard let token = reply.body["auth"]?["client_token"]?.stringValue else {
                throw CofferError(.internalError, "token create failed: \(reply.status)")
            }
            return token
        }
    }
}

import CofferCore
import Foundation
import Logging
import NIOCore
import Synchronization

/// Where committed audit entries are copied besides the database: stdout, a JSON-lines file, an HTTP
/// collector. The database is the record that fail-closed applies to; sinks are best effort (the
/// HTTP sink retries, and counts what it had to drop).
public final class AuditSinks: Sendable {
    private let stdout: Bool
    private let file: Mutex<FileHandle?>
    private let http: HTTPAuditSink?

    /// Opens the configured sinks; `transport` carries the HTTP sink's requests.
    public init(configuration: ServerConfiguration, transport: (any AuditHTTPTransport)?, logger: Logger) throws {
        stdout = configuration.auditStdout
        if let path = configuration.auditFile {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            guard descriptor >= 0 else { throw CofferError(.configInvalid, "cannot open the audit file \(path)") }
            file = Mutex(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
        } else {
            file = Mutex(nil)
        }
        if let url = configuration.auditHTTPURL {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw CofferError(.configInvalid, "audit http_url must be an http(s) URL")
            }
            guard let transport else { throw CofferError(.configInvalid, "no HTTP transport for the audit http_url sink") }
            http = HTTPAuditSink(url: url, transport: transport, logger: logger)
        } else {
            http = nil
        }
    }

    /// The JSON line for an entry.
    public static func line(_ entry: AuditEntry) -> [UInt8] {
        var object: [String: JSONValue] = [
            "tenant_id": .string(entry.tenantID), "sequence": .int(entry.sequence), "entry_hash": .string(entry.entryHash.hexString),
            "previous_hash": .string(entry.previousHash.hexString),
        ]
        object["entry"] = JSONValue.parse(entry.canonical)?["record"] ?? .null
        return JSONValue.object(object).canonicalBytes() + [0x0a]
    }

    /// Copies an entry to every sink.
    public func emit(_ entry: AuditEntry) {
        guard stdout || http != nil || file.withLock({ $0 != nil }) else { return }
        let line = Self.line(entry)
        if stdout { FileHandle.standardOutput.write(Data(line)) }
        file.withLock { $0?.write(Data(line)) }
        http?.enqueue(line)
    }

    /// Entries the HTTP sink gave up on.
    public var droppedHTTP: Int { http?.dropped ?? 0 }
}

/// Sends one batch of JSON lines to a collector; `true` when it answered 2xx.
public protocol AuditHTTPTransport: Sendable {
    /// POSTs `body` (newline-delimited JSON) to `url`.
    func post(url: String, body: [UInt8]) async -> Bool
}

/// POSTs audit lines to a collector in batches, retrying with backoff; keeps at most 10,000 lines queued.
final class HTTPAuditSink: Sendable {
    let url: String
    let logger: Logger
    let transport: any AuditHTTPTransport
    private let state = Mutex<(queue: [[UInt8]], running: Bool, dropped: Int)>(([], false, 0))
    static let capacity = 10_000
    static let attempts = 4

    init(url: String, transport: any AuditHTTPTransport, logger: Logger) {
        self.url = url
        self.transport = transport
        self.logger = logger
    }

    var dropped: Int { state.withLock { $0.dropped } }

    func enqueue(_ line: [UInt8]) {
        let start = state.withLock { state -> Bool in
            if state.queue.count >= Self.capacity {
                state.queue.removeFirst()
                state.dropped += 1
            }
            state.queue.append(line)
            guard !state.running else { return false }
            state.running = true
            return true
        }
        if start { Task.detached { await self.drain() } }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [[UInt8]] in
                let batch = Array(state.queue.prefix(500))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            if !(await send(batch.flatMap { $0 })) {
                state.withLock { $0.dropped += batch.count }
                logger.warning("audit HTTP sink gave up on a batch", metadata: ["entries": .stringConvertible(batch.count)])
            }
        }
    }

    private func send(_ body: [UInt8]) async -> Bool {
        var delay: UInt64 = 50_000_000
        for attempt in 1...Self.attempts {
            if await transport.post(url: url, body: body) { return true }
            if attempt < Self.attempts {
                try? await Task.sleep(nanoseconds: delay)
                delay *= 4
            }
        }
        return false
    }
}

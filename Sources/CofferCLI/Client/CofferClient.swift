import AsyncHTTPClient
import CofferCore
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for Coffer's API.
public struct CofferClient: Sendable {
    /// The resolved settings.
    public let environment: ClientEnvironment

    /// Creates a client.
    public init(environment: ClientEnvironment) { self.environment = environment }

    /// A response: status and parsed JSON body (`null` when empty).
    public struct Reply: Sendable {
        /// HTTP status code.
        public var status: Int
        /// Parsed body.
        public var body: JSONValue
    }

    /// Sends a request and returns the reply, throwing a ``CLIError`` for non-2xx answers.
    @discardableResult
    public func send(_ method: String, _ path: String, body: JSONValue? = nil, allow: Set<Int> = []) async throws -> Reply {
        if let problem = environment.tokenProblem { throw CLIError(problem) }
        var request = HTTPClientRequest(url: environment.address + path)
        request.method = HTTPMethod(rawValue: method)
        if let token = environment.token { request.headers.add(name: "X-Vault-Token", value: token) }
        if let tenant = environment.tenant { request.headers.add(name: "X-Vault-Namespace", value: tenant) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.canonicalBytes()))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            // Never the client library's own description: it can quote the request's header values (the token).
            throw CLIError("cannot reach Coffer at \(environment.displayAddress): \(Self.reason(error))")
        }
        var buffer = try await response.body.collect(upTo: 64 << 20)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let parsed = bytes.isEmpty ? JSONValue.null : (JSONValue.parse(bytes) ?? .string(String(decoding: bytes, as: UTF8.self)))
        let status = Int(response.status.code)
        guard (200..<300).contains(status) || allow.contains(status) else {
            let message =
                parsed["errors"].flatMap { value -> String? in
                    if case .array(let items) = value { return items.compactMap(\.stringValue).joined(separator: "; ") }
                    return nil
                } ?? "HTTP \(status)"
            let code = parsed["code"]?.stringValue ?? "HTTP_\(status)"
            let requestID = parsed["request_id"]?.stringValue ?? response.headers.first(name: "X-Request-Id") ?? "-"
            throw CLIError("\(code): \(message) (request id \(requestID))", status: status)
        }
        return Reply(status: status, body: parsed)
    }
}

extension CofferClient {
    /// Why a request did not reach the server, in words that cannot carry request data: the system's
    /// error for a socket failure, else only the kind of failure.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as IOError: return "\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
        case let error as HTTPClientError where error == .connectTimeout || error == .deadlineExceeded: return "timed out"
        default: return "the connection or request failed"
        }
    }
}

/// A CLI failure with a message for stderr.
public struct CLIError: Error, CustomStringConvertible {
    /// Message.
    public let description: String
    /// HTTP status, when from the server.
    public let status: Int?
    /// Creates an error.
    public init(_ message: String, status: Int? = nil) {
        self.description = message
        self.status = status
    }
}

/// Writes JSON for humans.
public enum Output {
    /// Pretty, sorted JSON.
    public static func pretty(_ value: JSONValue) -> String {
        String(decoding: value.prettyBytes(), as: UTF8.self)
    }

    /// A JSON value as plain text: strings raw, others as compact JSON.
    public static func plain(_ value: JSONValue) -> String {
        if let text = value.stringValue { return text }
        return String(decoding: value.canonicalBytes(), as: UTF8.self)
    }

    /// Escapes a path for use in a URL path (keeping `/`).
    public static func escapePath(_ path: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
    }
}

import AsyncHTTPClient
import CofferCore
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for Coffer's API.
public struct CofferClient: Sendable {
    /// The resolved settings.
    public let environment: ClientEnvironment
    /// The longest a request may take in all.
    public let timeout: TimeAmount

    /// Creates a client; connecting gives up after 5 s, a request after `timeout`.
    public init(environment: ClientEnvironment, timeout: TimeAmount = .seconds(30)) {
        self.environment = environment
        self.timeout = timeout
    }

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
        if let problem = environment.addressProblem { throw CLIError(problem) }
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
        var buffer: ByteBuffer
        do {
            let client = try ClientTransport.shared.client(for: environment)
            response = try await client.execute(request, timeout: timeout)
            buffer = try await response.body.collect(upTo: 64 << 20)
        } catch let error as CLIError {
            throw error
        } catch {
            // Never the client library's own description: it can quote the request's header values (the token).
            throw CLIError(ConnectionFailure.describe(error, environment: environment, timeout: timeout))
        }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        let parsed = bytes.isEmpty ? JSONValue.null : (JSONValue.parse(bytes) ?? .null)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) || allow.contains(status) else {
            throw ServerFailure.error(status: status, body: parsed, headers: response.headers, environment: environment, path: path)
        }
        return Reply(status: status, body: parsed)
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

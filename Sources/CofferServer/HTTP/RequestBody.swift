import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Reading request bodies with a size limit and strict JSON parsing.
public struct BodyReader: Sendable {
    /// Largest body accepted.
    public let limit: Int

    /// Creates a reader.
    public init(limit: Int) { self.limit = limit }

    /// The body's bytes; `PAYLOAD_TOO_LARGE` past the limit.
    public func bytes(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw CofferError(.payloadTooLarge, "request body exceeds \(limit) bytes")
        }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw CofferError(.payloadTooLarge, "request body exceeds \(limit) bytes")
        } catch is NIOTooManyBytesError {
            // A chunked body has no Content-Length to refuse early; collecting it stops at the limit.
            throw CofferError(.payloadTooLarge, "request body exceeds \(limit) bytes")
        }
    }

    /// The body as a JSON object; an empty body is `{}`. `MALFORMED_JSON` otherwise. The body is
    /// handed to the request's unit of work, which redacts it if (and only if) an audit entry is written;
    /// `recording: false` keeps it out of the audit entry altogether (root-key material).
    public func object(_ request: Request, _ context: CofferRequestContext, recording: Bool = true) async throws -> [String: JSONValue] {
        let bytes = try await self.bytes(request)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        guard let value = JSONValue.parse(bytes) else {
            throw CofferError(.malformedJSON, "request body is not valid JSON")
        }
        guard let object = value.objectValue else {
            throw CofferError(.malformedJSON, "request body must be a JSON object")
        }
        if recording { context.work.recordBody(value) }
        return object
    }
}

extension CofferError {
    /// `INVALID_REQUEST` naming a parameter the endpoint does not take (at most 64 characters of the
    /// name are repeated) and what was not done.
    public static func unknownParameter(_ name: String, _ outcome: String = "nothing was done") -> CofferError {
        CofferError(.invalidRequest, "unknown parameter '\(name.prefix(64))'; \(outcome)")
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// Refuses, naming it, any parameter outside `honoured` and `defaultsOnly`, and any parameter of
    /// `defaultsOnly` (a Vault parameter Coffer does not implement) set to anything but `null` or one of
    /// its listed default values: nothing a client asks for is silently ignored.
    public func admit(
        _ honoured: Set<String>, defaultsOnly: [String: Set<JSONValue>] = [:], outcome: String = "nothing was done"
    ) throws(CofferError) {
        for key in keys.sorted() where !honoured.contains(key) {
            guard let defaults = defaultsOnly[key] else { throw .unknownParameter(key, outcome) }
            let value = self[key] ?? .null
            if value != .null && !defaults.contains(value) {
                throw CofferError(.invalidRequest, "\(key) is not supported by Coffer (only its default); \(outcome)")
            }
        }
    }

    /// An optional integer field; `INVALID_REQUEST` if present but not an integer.
    public func int(_ key: String) throws(CofferError) -> Int? {
        guard let value = self[key], value != .null else { return nil }
        guard let number = value.intValue else { throw CofferError(.invalidRequest, "'\(key)' must be an integer") }
        return number
    }

    /// An optional boolean field.
    public func bool(_ key: String) throws(CofferError) -> Bool? {
        guard let value = self[key], value != .null else { return nil }
        guard let flag = value.boolValue else { throw CofferError(.invalidRequest, "'\(key)' must be a boolean") }
        return flag
    }

    /// An optional string field.
    public func string(_ key: String) throws(CofferError) -> String? {
        guard let value = self[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw CofferError(.invalidRequest, "'\(key)' must be a string") }
        return text
    }

    /// An optional list of strings; `INVALID_REQUEST` if present but not an array of strings.
    public func stringList(_ key: String) throws(CofferError) -> [String]? {
        guard let value = self[key], value != .null else { return nil }
        guard case .array(let items) = value else { throw CofferError(.invalidRequest, "'\(key)' must be an array of strings") }
        var out: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw CofferError(.invalidRequest, "'\(key)' must be an array of strings") }
            out.append(text)
        }
        return out
    }

    /// An optional object of string values.
    public func stringMap(_ key: String) throws(CofferError) -> [String: String]? {
        guard let value = self[key], value != .null else { return nil }
        guard let members = value.objectValue else { throw CofferError(.invalidRequest, "'\(key)' must be an object of strings") }
        var out: [String: String] = [:]
        for (name, member) in members {
            guard let text = member.stringValue else { throw CofferError(.invalidRequest, "'\(key)' must be an object of strings") }
            out[name] = text
        }
        return out
    }

    /// An optional nested object.
    public func object(_ key: String) throws(CofferError) -> [String: JSONValue]? {
        guard let value = self[key], value != .null else { return nil }
        guard let members = value.objectValue else { throw CofferError(.invalidRequest, "'\(key)' must be an object") }
        return members
    }

    /// A list of integers (`versions`), accepting a JSON array or a comma-separated string.
    public func intList(_ key: String) throws(CofferError) -> [Int] {
        guard let value = self[key], value != .null else { return [] }
        if case .array(let items) = value {
            var out: [Int] = []
            for item in items {
                guard let number = item.intValue, number > 0 else { throw CofferError(.invalidRequest, "'\(key)' must list positive integers") }
                out.append(number)
            }
            return out
        }
        if let text = value.stringValue {
            var out: [Int] = []
            for part in text.split(separator: ",") {
                guard let number = Int(part.trimmingCharacters(in: .whitespaces)), number > 0 else {
                    throw CofferError(.invalidRequest, "'\(key)' must list positive integers")
                }
                out.append(number)
            }
            return out
        }
        throw CofferError(.invalidRequest, "'\(key)' must be an array of integers")
    }

    /// A duration field given as seconds or a string like `30m`, at most 100 years; `INVALID_REQUEST`
    /// for anything else, including a number too large to compute with.
    public func duration(_ key: String) throws(CofferError) -> Int64? {
        guard let value = self[key], value != .null else { return nil }
        if case .number(let number) = value, let seconds = number.int64Value, (0...Timestamp.maximumDurationSeconds).contains(seconds) {
            return seconds
        }
        if let text = value.stringValue, let seconds = Timestamp.parseDuration(text) { return seconds }
        throw CofferError(.invalidRequest, "'\(key)' must be a duration like 30s, 15m, 24h or a number of seconds, at most 100 years")
    }
}

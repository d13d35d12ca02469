import CofferCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Builds JSON responses in Vault's envelope. `Content-Type` is exactly `application/json`
/// (no charset): hvac parses bodies only when it sees that exact value.
public enum VaultResponse {
    /// A `200` envelope with `data`.
    public static func data(_ data: JSONValue, context: CofferRequestContext, status: HTTPResponse.Status = .ok) -> Response {
        envelope(data: data, auth: .null, context: context, status: status)
    }

    /// A Vault envelope.
    public static func envelope(
        data: JSONValue, auth: JSONValue, context: CofferRequestContext, status: HTTPResponse.Status = .ok, warnings: JSONValue = .null,
        wrapInfo: JSONValue = .null
    ) -> Response {
        var fields: [String: JSONValue] = [
            "lease_id": "", "renewable": false, "lease_duration": 0, "data": data, "wrap_info": wrapInfo, "warnings": warnings, "auth": auth,
        ]
        // Asked to wrap: the answer is handed to the wrapping middleware, which sends wrap_info instead.
        if status == .ok, context.notes.wrapRequested { context.notes.wrappable = .object(fields) }
        fields["request_id"] = .string(context.requestID)
        return json(.object(fields), status: status)
    }

    /// Vault's answer to `sys/mounts` and `sys/auth`: the map keyed `path/`, in `data` and (as Vault also
    /// answers, and hvac reads) at the top level of the envelope.
    public static func keyedListing(_ map: [String: JSONValue], context: CofferRequestContext) -> Response {
        var envelope: [String: JSONValue] = map
        envelope["data"] = .object(map)
        envelope["request_id"] = .string(context.requestID)
        envelope["lease_id"] = ""
        envelope["lease_duration"] = 0
        envelope["renewable"] = false
        envelope["wrap_info"] = nil
        envelope["warnings"] = nil
        envelope["auth"] = nil
        return json(.object(envelope), status: .ok)
    }

    /// `204 No Content`.
    public static func noContent() -> Response { Response(status: .noContent) }

    /// An error body: `{"errors": [message], "code": CODE, "request_id": id}`.
    public static func error(_ error: CofferError, requestID: String) -> Response {
        json(
            ["errors": [.string(error.message)], "code": .string(error.code.rawValue), "request_id": .string(requestID)],
            status: ErrorStatus.status(for: error))
    }

    /// Any JSON value with a status.
    public static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        bytes(value.canonicalBytes(), status: status)
    }

    /// Already-encoded JSON with a status.
    public static func bytes(_ bytes: [UInt8], status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

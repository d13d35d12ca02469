import CofferCore
import NIOHTTP1

/// The message for a non-2xx answer: the server's code and message and the request id, plus what to
/// do when the cause is on the caller's side (no token, a refused token).
enum ServerFailure {
    /// A ``CLIError`` for `status` and `body`.
    static func error(status: Int, body: JSONValue, headers: HTTPHeaders, environment: ClientEnvironment, path: String) -> CLIError {
        var message = ""
        if case .array(let items)? = body["errors"] { message = items.compactMap(\.stringValue).joined(separator: "; ") }
        let code = body["code"]?.stringValue ?? fallbackCode(status)
        if message.isEmpty { message = fallbackMessage(status) }
        let requestID = body["request_id"]?.stringValue ?? headers.first(name: "X-Request-Id") ?? "-"
        var text = "\(code): \(message) (request id \(requestID))"
        if status == 401 || code == "UNAUTHENTICATED" {
            if let source = environment.tokenSource {
                text +=
                    "\nThe token from \(source) was refused (expired, revoked, or from another server); log in again: coffer login < token.txt, or set COFFER_TOKEN"
            } else {
                text += "\nNo token: log in with `coffer login < token.txt`, or set COFFER_TOKEN (VAULT_TOKEN works too)"
            }
        }
        return CLIError(text, status: status)
    }

    /// A stable code for an answer without one (a route Coffer does not have, a proxy's page).
    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 400: return "INVALID_REQUEST"
        case 401: return "UNAUTHENTICATED"
        case 403: return "PERMISSION_DENIED"
        case 404: return "NOT_FOUND"
        case 405: return "METHOD_NOT_ALLOWED"
        case 413: return "PAYLOAD_TOO_LARGE"
        case 429: return "RATE_LIMITED"
        case 503: return "UNAVAILABLE"
        default: return "HTTP_\(status)"
        }
    }

    /// Words for an answer without a message.
    static func fallbackMessage(_ status: Int) -> String {
        switch status {
        case 404: return "nothing found at this path (HTTP 404)"
        case 405: return "this operation is not allowed here (HTTP 405)"
        default: return "the server answered HTTP \(status) without a message"
        }
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One line for a request that got no HTTP answer: what happened at which address, and the fix.
/// Built only from the kind of failure, never from the library's description, which can quote the
/// request's headers (the token).
enum ConnectionFailure {
    /// The message for `error`.
    static func describe(_ error: any Error, environment: ClientEnvironment, timeout: TimeAmount) -> String {
        let address = environment.displayAddress
        let source = environment.addressSource
        let kind = classify(error)
        switch kind {
        case .refused:
            return
                "cannot reach Coffer at \(address) (from \(source)): connection refused; is the server running (`coffer dev`) and is the port right?"
        case .unresolvable:
            return "cannot reach Coffer at \(address) (from \(source)): the host name does not resolve"
        case .connectTimeout:
            return "cannot reach Coffer at \(address) (from \(source)): no connection within 5 s; check the host, port and firewall"
        case .timeout:
            return "Coffer at \(address) did not answer within \(timeout.nanoseconds / 1_000_000_000) s"
        case .untrustedCertificate:
            return "cannot reach Coffer at \(address): its TLS certificate is not trusted; name the CA that signed it with --ca-cert FILE, "
                + "COFFER_CACERT or VAULT_CACERT (a PEM file) or VAULT_CAPATH (a folder)"
        case .hostnameMismatch:
            return
                "cannot reach Coffer at \(address): its TLS certificate is not valid for this host name; use the name the certificate was issued for"
        case .tlsFailed:
            let plain = "http://" + address.dropFirst("https://".count)
            return "cannot reach Coffer at \(address): the TLS handshake failed; if the server does not use TLS, use \(plain)"
        case .notHTTP:
            if environment.usesTLS {
                return "cannot reach Coffer at \(address): the server's answer is not HTTP"
            }
            let secure = "https://" + address.dropFirst("http://".count)
            return "cannot reach Coffer at \(address): the server closed the connection without an HTTP answer; if it uses TLS, use \(secure)"
        case .system(let code):
            return "cannot reach Coffer at \(address) (from \(source)): \(systemMessage(code))"
        case .other:
            return "cannot reach Coffer at \(address) (from \(source)): the connection failed"
        }
    }

    enum Kind: Equatable {
        case refused, unresolvable, connectTimeout, timeout, untrustedCertificate, hostnameMismatch, tlsFailed, notHTTP, other
        case system(Int32)
    }

    /// The kind of failure, looking inside the wrappers NIO and AsyncHTTPClient put around it.
    static func classify(_ error: any Error) -> Kind {
        switch error {
        case let error as HTTPClientError:
            if error == .connectTimeout { return .connectTimeout }
            if error == .deadlineExceeded || error == .readTimeout { return .timeout }
            if error == .remoteConnectionClosed || error == .invalidProxyResponse { return .notHTTP }
            return .other
        case let error as IOError:
            return error.errnoCode == ECONNREFUSED ? .refused : .system(error.errnoCode)
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty { return .unresolvable }
            if let first = error.connectionErrors.first { return classify(first.error) }
            return .unresolvable
        case is ChannelError:
            return (error as? ChannelError) == .connectTimeout(.seconds(5)) ? .connectTimeout : .notHTTP
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return .hostnameMismatch
        case let error as NIOSSLError:
            if case .handshakeFailed(let inner) = error, "\(inner)".contains("CERTIFICATE_VERIFY_FAILED") { return .untrustedCertificate }
            return .tlsFailed
        case is BoringSSLError:
            return "\(error)".contains("CERTIFICATE_VERIFY_FAILED") ? .untrustedCertificate : .tlsFailed
        case is HTTPParserError:
            return .notHTTP
        default:
            let described = String(describing: type(of: error))
            if described.contains("Resolution") || described.contains("DNS") { return .unresolvable }
            return .other
        }
    }

    /// The system's text for an errno value.
    static func systemMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return "\(String(validatingCString: text) ?? "errno \(code)") (errno \(code))"
    }
}

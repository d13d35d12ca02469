import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The browser's way back to `coffer login --method oidc`: a one-shot HTTP listener on 127.0.0.1 that
/// waits for the identity provider's redirect to `/oidc/callback?code=…&state=…` (as `vault login
/// -method=oidc` listens on localhost:8250). Other requests (a favicon) get 404; the page shown never
/// repeats what the query held.
final class LoopbackCallback: Sendable {
    /// What the redirect carried.
    struct Redirect: Sendable {
        let code: String
        let state: String
    }

    let port: Int
    private let socket: Int32

    /// Binds 127.0.0.1:`port` (0: any free port).
    init(port: Int) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError("cannot open a socket for the login callback") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw CLIError("cannot listen on 127.0.0.1:\(port) for the login callback (in use? choose another with --callback-port)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.socket = fd
    }

    deinit { close(socket) }

    /// The redirect URI the provider must send the browser back to.
    var redirectURI: String { "http://localhost:\(port)/oidc/callback" }

    /// Waits (on a thread of its own) up to `seconds` for the callback.
    func wait(seconds: Int) async throws -> Redirect {
        let fd = socket
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result(catching: { try Self.serve(fd, seconds: seconds) }))
            }.start()
        }
    }

    static func serve(_ fd: Int32, seconds: Int) throws -> Redirect {
        let deadline = Date().addingTimeInterval(Double(seconds))
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1_000) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            defer { close(client) }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 8_192)
            let count = read(client, &buffer, buffer.count)
            guard count > 0 else { continue }
            let head = String(decoding: buffer[..<count], as: UTF8.self)
            let line = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "GET", let components = URLComponents(string: String(parts[1])),
                components.path == "/oidc/callback"
            else {
                respond(client, status: "404 Not Found", body: "Not found.")
                continue
            }
            let items = components.queryItems ?? []
            let value = { (name: String) in items.first { $0.name == name }?.value }
            if value("error") != nil {
                respond(client, status: "400 Bad Request", body: "The identity provider refused the login. You can close this window.")
                throw CLIError("the identity provider refused the login (error \(String((value("error") ?? "").prefix(64))))")
            }
            guard let code = value("code"), let state = value("state"), !code.isEmpty, !state.isEmpty else {
                respond(client, status: "400 Bad Request", body: "The callback lacks its code or state.")
                continue
            }
            respond(client, status: "200 OK", body: "Signed in to Coffer. You can close this window and return to the terminal.")
            return Redirect(code: code, state: state)
        }
        throw CLIError("no login arrived at the callback within \(seconds) s")
    }

    static func respond(_ client: Int32, status: String, body: String) {
        let page = "<!doctype html><title>Coffer</title><p>\(body)</p>"
        let answer =
            "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(page.utf8.count)\r\nConnection: close\r\n"
            + "Cache-Control: no-store\r\n\r\n" + page
        _ = answer.withCString { write(client, $0, strlen($0)) }
    }
}

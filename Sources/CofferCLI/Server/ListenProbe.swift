import Foundation

/// Checks, before anything is created, that the server will be able to listen.
enum ListenProbe {
    /// Binds (and releases) a TCP socket on `host:port` the way the server will, with `SO_REUSEADDR`;
    /// returns the system's reason when that fails (`Address already in use`), nil when it works.
    /// Port 0 always works.
    static func problem(host: String, port: Int) -> String? {
        guard port != 0 else { return nil }
        guard (1...65535).contains(port) else { return "port \(port) is not between 1 and 65535" }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { return "cannot resolve \(host): \(String(cString: gai_strerror(status)))" }
        defer { freeaddrinfo(list) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0 else { return String(cString: strerror(errno)) }
        defer { close(descriptor) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }
}

import Foundation

/// A route's path template (`/forecast/{city}`): literal segments and named parameters, each one whole
/// segment. Matching works on decoded segments and refuses traversal and control characters; building
/// the upstream path percent-encodes every parameter, so a client can add neither a segment nor a query.
public struct RouteTemplate: Sendable, Equatable {
    /// One segment.
    public enum Segment: Sendable, Equatable {
        /// Matched exactly.
        case literal(String)
        /// Matched by any single segment, named.
        case parameter(String)
    }

    /// The template as written.
    public let text: String
    /// Its segments.
    public let segments: [Segment]

    /// Parses `/a/{b}/c`; `INVALID_REQUEST` for anything else (empty segments, `..`, bad names).
    public init(_ text: String) throws(CofferError) {
        guard text.hasPrefix("/"), text.utf8.count <= 1024 else {
            throw CofferError(.invalidRequest, "a route path must start with / (at most 1024 bytes)")
        }
        var segments: [Segment] = []
        var names: Set<String> = []
        for part in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let part = String(part)
            if part.hasPrefix("{") && part.hasSuffix("}") {
                let name = String(part.dropFirst().dropLast())
                guard Self.isParameterName(name), names.insert(name).inserted else {
                    throw CofferError(.invalidRequest, "route path parameters are {name} with letters, digits and _, each once")
                }
                segments.append(.parameter(name))
            } else {
                guard !part.isEmpty || segments.isEmpty, part != ".", part != "..",
                    part.unicodeScalars.allSatisfy({ Self.unreserved($0) || "!$&'()*+,;=:@".unicodeScalars.contains($0) })
                else {
                    throw CofferError(.invalidRequest, "route path segments must be non-empty, not . or .., and use URL path characters only")
                }
                if !part.isEmpty { segments.append(.literal(part)) }
            }
        }
        self.text = text
        self.segments = segments
    }

    /// The parameter names, in order.
    public var parameterNames: [String] {
        segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
    }

    static func isParameterName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
    }

    static func unreserved(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar)
    }

    /// Splits a raw request path (still percent-encoded) into decoded segments; nil when it cannot be
    /// matched safely: bad percent-encoding, a decoded `/`, `.` or `..`, or a control character.
    public static func decodedSegments(_ rawPath: String) -> [String]? {
        guard rawPath.isEmpty || rawPath.hasPrefix("/") else { return nil }
        var out: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = String(raw).removingPercentEncoding else { return nil }
            guard decoded != ".", decoded != "..", !decoded.contains("/"),
                decoded.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
            else { return nil }
            out.append(decoded)
        }
        if out.last == "" { out.removeLast() }
        return out
    }

    /// The parameters when `segments` match this template exactly, else nil.
    public func match(_ segments: [String]) -> [String: String]? {
        guard segments.count == self.segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(self.segments, segments) {
            switch segment {
            // Bytes, not Swift's canonical equivalence: U+037E must not match a literal ';'.
            case .literal(let text): guard text.utf8.elementsEqual(part.utf8) else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = part
            }
        }
        return parameters
    }

    /// The path with each parameter percent-encoded (only unreserved characters stay as they are).
    public func expand(_ parameters: [String: String]) -> String {
        var out = ""
        for segment in segments {
            out += "/"
            switch segment {
            case .literal(let text): out += text
            case .parameter(let name): out += Self.percentEncode(parameters[name] ?? "")
            }
        }
        return out.isEmpty ? "/" : out
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    public static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80 && unreserved(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: Swift.max(0, width - count)) + self }
}

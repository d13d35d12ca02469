/// The byte-level rules of ``ListMethodRewriter``, free of SwiftNIO so they can be fuzzed on their own
/// (`Fuzz/`): following HTTP/1 request framing by `Content-Length`, and rewriting `LIST /path` heads.
struct ListFraming {
    /// Where in the byte stream the machine is.
    enum State: Equatable {
        /// Reading a request head (bytes of it so far).
        case head([UInt8])
        /// Skipping this many body bytes.
        case body(Int)
        /// Framing not followed: every further byte passes through untouched.
        case passthrough
    }

    static let maximumHeadBytes = 64 * 1024

    /// The current state.
    var state = State.head([])

    /// Rewrites one read of the stream: the bytes to pass on (heads with `LIST` rewritten, all else as is).
    mutating func feed(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + 16)
        var index = 0
        while index < input.count {
            switch state {
            case .passthrough:
                output.append(contentsOf: input[index...])
                index = input.count
            case .body(let remaining):
                let count = min(remaining, input.count - index)
                output.append(contentsOf: input[index..<(index + count)])
                index += count
                state = remaining - count == 0 ? .head([]) : .body(remaining - count)
            case .head(var accumulated):
                let startCount = accumulated.count
                accumulated.append(contentsOf: input[index...])
                if Self.cannotBeRequest(accumulated) {
                    // Not HTTP (a TLS ClientHello sent to a plain port): hand it to the parser at once,
                    // so the client hears a refusal now rather than a timeout. Decided on the head's first
                    // bytes only, so it does not depend on how the stream was cut into reads.
                    output.append(contentsOf: accumulated)
                    state = .passthrough
                    index = input.count
                    continue
                }
                guard let end = Self.headEnd(accumulated, searchFrom: max(0, startCount - 3)) else {
                    index = input.count
                    if accumulated.count > Self.maximumHeadBytes {
                        output.append(contentsOf: accumulated)
                        state = .passthrough
                    } else {
                        state = .head(accumulated)
                    }
                    continue
                }
                guard end <= Self.maximumHeadBytes else {
                    // Too long to follow, however the reads were cut: pass everything through from here.
                    output.append(contentsOf: accumulated)
                    state = .passthrough
                    index = input.count
                    continue
                }
                // Bytes of this read that belong to the head; the rest is read on the next turn.
                index += end - startCount
                let (rewritten, bodyLength) = Self.rewrite(Array(accumulated[..<end]))
                output.append(contentsOf: rewritten)
                switch bodyLength {
                case .none: state = .passthrough
                case .some(0): state = .head([])
                case .some(let length): state = .body(length)
                }
            }
        }
        return output
    }

    /// The state after `bytes`, when they hold only complete heads without `LIST` (and body bytes);
    /// `nil` when a head must be rewritten or is cut off, so the copying path takes over.
    static func follow(_ bytes: UnsafeRawBufferPointer, from start: State) -> State? {
        var state = start
        var index = 0
        while index < bytes.count {
            switch state {
            case .passthrough:
                return .passthrough
            case .body(let remaining):
                let count = min(remaining, bytes.count - index)
                index += count
                state = remaining - count == 0 ? .head([]) : .body(remaining - count)
            case .head(let accumulated):
                guard accumulated.isEmpty else { return nil }
                var end = index
                while end + 3 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10 && bytes[end + 2] == 13 && bytes[end + 3] == 10) {
                    end += 1
                }
                guard end + 3 < bytes.count, end + 4 - index <= maximumHeadBytes else { return nil }
                let head = UnsafeRawBufferPointer(rebasing: bytes[index..<(end + 4)])
                guard !head.starts(with: listPrefix) else { return nil }
                if cannotBeRequest(head) { return .passthrough }
                index = end + 4
                switch bodyLength(head) {
                case .none: state = .passthrough
                case .some(0): state = .head([])
                case .some(let length): state = .body(length)
                }
            }
        }
        return state
    }

    /// Whether a head that is still incomplete cannot be an HTTP/1 request: its method (after any
    /// empty lines) holds a byte other than an ASCII letter, or is longer than any method.
    static func cannotBeRequest(_ bytes: some Collection<UInt8>) -> Bool {
        var methodLength = 0
        for byte in bytes {
            if methodLength == 0, byte == 13 || byte == 10 { continue }
            if byte == 32 { return methodLength == 0 }
            guard (65...90).contains(byte) || (97...122).contains(byte) || byte == 45 || byte == 95 else { return true }
            methodLength += 1
            if methodLength > 32 { return true }
        }
        return false
    }

    /// Index just past the first `\r\n\r\n`, searching from `start`.
    static func headEnd(_ bytes: [UInt8], searchFrom start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index + 4 }
            index += 1
        }
        return nil
    }

    /// The head with `LIST` rewritten, and the body length (`nil` = framing not followed: pass through).
    static func rewrite(_ head: [UInt8]) -> ([UInt8], Int?) {
        let length = head.withUnsafeBytes { bodyLength($0) }
        guard head.starts(with: listPrefix), let requestLineEnd = head.firstIndex(of: 13) else { return (head, length) }
        let requestLine = String(decoding: head[..<requestLineEnd], as: UTF8.self)
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return (head, nil) }
        let target = String(parts[1])
        let separator = target.contains("?") ? "&" : "?"
        return (Array("GET \(target)\(separator)list=true \(parts[2])".utf8) + head[requestLineEnd...], length)
    }

    /// The body length a head announces (0 without `Content-Length`); `nil` when framing is not followed
    /// (`Transfer-Encoding`, a repeated or malformed `Content-Length`). Scans bytes only.
    static func bodyLength(_ head: UnsafeRawBufferPointer) -> Int? {
        var contentLength = 0
        var sawLength = false
        var inRequestLine = true
        var lineStart = 0
        var index = 0
        while index + 1 < head.count {
            guard head[index] == 13, head[index + 1] == 10 else {
                index += 1
                continue
            }
            if inRequestLine {
                inRequestLine = false
            } else if index > lineStart {
                if nameMatches(head, lineStart, index, transferEncoding) { return nil }
                if nameMatches(head, lineStart, index, contentLengthName) {
                    guard !sawLength, let length = decimal(head, lineStart + contentLengthName.count + 1, index) else { return nil }
                    sawLength = true
                    contentLength = length
                }
            }
            index += 2
            lineStart = index
        }
        return contentLength
    }

    static let listPrefix = Array("LIST ".utf8)
    static let transferEncoding = Array("transfer-encoding".utf8)
    static let contentLengthName = Array("content-length".utf8)

    /// Whether the header line `[start, end)` is `name:` (name compared case-insensitively; `name` is lowercase).
    static func nameMatches(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ name: [UInt8]) -> Bool {
        guard end - start > name.count, bytes[start + name.count] == UInt8(ascii: ":") else { return false }
        for offset in 0..<name.count where bytes[start + offset] | 0x20 != name[offset] { return false }
        return true
    }

    /// A header value of decimal digits between optional spaces or tabs; `nil` for anything else.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        var first = start
        var last = end
        while first < last, bytes[first] == 32 || bytes[first] == 9 { first += 1 }
        while last > first, bytes[last - 1] == 32 || bytes[last - 1] == 9 { last -= 1 }
        guard first < last, last - first <= 18 else { return nil }
        var value = 0
        for byte in bytes[first..<last] {
            guard (48...57).contains(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }
}

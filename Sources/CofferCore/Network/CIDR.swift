import Foundation

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/24`, `2001:db8::/32`), or a single address.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// Network address bytes (4 or 16).
    public let network: [UInt8]
    /// Prefix length in bits.
    public let prefixLength: Int

    /// Parses `address[/bits]`; `nil` if malformed. Host bits are cleared.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = CIDR.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var bits = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value), !parts[1].hasPrefix("+") else { return nil }
            bits = value
        }
        network = CIDR.mask(address, bits)
        prefixLength = bits
    }

    /// `network/bits`.
    public var description: String {
        let text: String
        if network.count == 4 {
            text = network.map(String.init).joined(separator: ".")
        } else {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: network) }
            inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return "\(text)/\(prefixLength)"
    }

    /// Whether `address` (text) is inside this network. IPv4-mapped IPv6 addresses match IPv4 networks.
    public func contains(_ address: String) -> Bool {
        guard var bytes = CIDR.parseAddress(address) else { return false }
        if bytes.count == 16, network.count == 4, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        return CIDR.mask(bytes, prefixLength) == network
    }

    /// Whether every address of `other` is inside this network (same family, no shorter prefix).
    public func covers(_ other: CIDR) -> Bool {
        other.network.count == network.count && other.prefixLength >= prefixLength && CIDR.mask(other.network, prefixLength) == network
    }

    /// Whether `text` is a single IPv4 or IPv6 address (no prefix length).
    public static func isAddress(_ text: String) -> Bool { parseAddress(text) != nil }

    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func mask(_ bytes: [UInt8], _ bits: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = max(0, min(8, bits - index * 8))
            return keep == 8 ? byte : byte & ~(UInt8(0xff) >> keep)
        }
    }
}

/// What every gateway client profile carries besides its credential: the networks it may call from,
/// its rate limit and its quota (`allowed_cidrs`, `rate_limit`, `quota` in its document).
public struct GatewayClientLimits: Sendable, Equatable {
    /// Networks it may call from (empty: any).
    public var allowedCIDRs: [CIDR] = []
    /// Calls per period (GCRA), if limited.
    public var rateLimit: GatewaySigningClient.Limit?
    /// Calls per fixed window, if limited.
    public var quota: GatewaySigningClient.Limit?

    /// No limits.
    public init() {}

    /// Reads `allowed_cidrs`, `rate_limit` and `quota` from a profile's document.
    public static func parse(_ reader: inout StrictObject, path: String) throws(CofferError) -> GatewayClientLimits {
        var limits = GatewayClientLimits()
        for text in try reader.strings("allowed_cidrs") ?? [] {
            guard let cidr = CIDR(text) else {
                throw CofferError(.invalidRequest, "'\(path).allowed_cidrs' holds an entry that is not an address or CIDR")
            }
            limits.allowedCIDRs.append(cidr)
        }
        if let value = reader.value("rate_limit") { limits.rateLimit = try GatewaySigningClient.Limit.parse(value, path: "\(path).rate_limit") }
        if let value = reader.value("quota") { limits.quota = try GatewaySigningClient.Limit.parse(value, path: "\(path).quota") }
        return limits
    }

    /// Adds the set members to a profile's document.
    public func write(into document: inout [String: JSONValue]) {
        if !allowedCIDRs.isEmpty { document["allowed_cidrs"] = .array(allowedCIDRs.map { .string($0.description) }) }
        if let rateLimit { document["rate_limit"] = rateLimit.document }
        if let quota { document["quota"] = quota.document }
    }
}

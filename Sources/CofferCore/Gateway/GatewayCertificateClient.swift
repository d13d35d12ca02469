/// A client profile that authenticates to a project with a TLS client certificate (mutual TLS): the
/// certificate must chain to the profile's CA bundle and be valid now; its identity comes from the
/// subject's common name or a subject alternative name, optionally limited to a list. Needs the
/// server to ask for client certificates (`tls.request_client_certificates`).
public struct GatewayCertificateClient: Sendable, Equatable {
    /// Where the identity is read from.
    public enum Identity: String, Sendable, CaseIterable {
        /// The subject's common name.
        case subjectCN = "subject_cn"
        /// A DNS subject alternative name (the first).
        case sanDNS = "san_dns"
        /// An email subject alternative name (the first).
        case sanEmail = "san_email"
        /// A URI subject alternative name (the first; SPIFFE ids, say).
        case sanURI = "san_uri"
    }

    /// The certificate authorities (PEM) client certificates must chain to.
    public var caBundle: String
    /// Where the identity comes from.
    public var identity: Identity
    /// Identities allowed (nil: any the CA vouches for).
    public var allowedIdentities: [String]?
    /// Routes it may call (nil = all).
    public var routes: [String]?
    /// Its network allow-list, rate limit and quota.
    public var limits = GatewayClientLimits()

    /// Parses `{ca_bundle, identity?, allowed_identities?, routes?, allowed_cidrs?, rate_limit?, quota?}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayCertificateClient {
        var reader = try StrictObject(value, path: path)
        guard let bundle = try GatewayProvider.pem(&reader, "ca_bundle", path: path) else {
            throw CofferError(.invalidRequest, "'\(path).ca_bundle' (PEM certificates) is required")
        }
        let identityName = try reader.string("identity") ?? Identity.subjectCN.rawValue
        guard let identity = Identity(rawValue: identityName) else {
            throw CofferError(
                .invalidRequest, "'\(path).identity' must be one of \(Identity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var client = GatewayCertificateClient(
            caBundle: bundle, identity: identity, allowedIdentities: try reader.strings("allowed_identities"), routes: try reader.strings("routes"))
        client.limits = try GatewayClientLimits.parse(&reader, path: path)
        try reader.finish()
        return client
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        var out: [String: JSONValue] = ["ca_bundle": .string(caBundle), "identity": .string(identity.rawValue)]
        if let allowedIdentities { out["allowed_identities"] = .array(allowedIdentities.map(JSONValue.string)) }
        if let routes { out["routes"] = .array(routes.map(JSONValue.string)) }
        limits.write(into: &out)
        return .object(out)
    }
}

import Foundation

/// A fixed upstream: base URL, how to reach it, and the credential Coffer adds. A client never
/// chooses the host, scheme or port.
public struct GatewayProvider: Sendable, Equatable {
    /// `https://api.example.com/v2` (no user, query or fragment).
    public var baseURL: String
    /// Scheme, host, port and base path, parsed.
    public var scheme: String
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: Int
    /// Path prefix (no trailing slash; empty for none).
    public var basePath: String
    /// Whether loopback, private and link-local addresses (and plain http) are allowed: off unless set,
    /// for upstreams on the operator's own network.
    public var allowInternal = false
    /// Connect timeout, ms.
    public var connectTimeoutMs = 5_000
    /// Time to the whole answer, ms.
    public var readTimeoutMs = 30_000
    /// Largest upstream answer passed back.
    public var maxResponseBytes = 10 << 20
    /// Most connections Coffer opens to the upstream at once (calls beyond wait, up to the connect timeout).
    public var maxConnections = 128
    /// The credential added to every call, if any.
    public var credential: GatewayCredential?
    /// Certificate authorities (PEM) the upstream's certificate must chain to, instead of the system's.
    public var caBundle: String?
    /// The client certificate chain (PEM) presented to the upstream (mutual TLS), with `clientKey`.
    public var clientCertificate: String?
    /// Where the client certificate's private key (PEM) is kept in KV.
    public var clientKey: GatewayCredential?

    /// Parses a provider document.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayProvider {
        var reader = try StrictObject(value, path: path)
        let base = try reader.requiredString("base_url")
        let allowInternal = try reader.bool("allow_internal") ?? false
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
            scheme == "https" || (scheme == "http" && allowInternal), let host = components.host, !host.isEmpty,
            components.user == nil, components.password == nil, components.query == nil, components.fragment == nil,
            !base.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7f })
        else {
            throw CofferError(
                .invalidRequest, "'\(path).base_url' must be an https:// URL without user, query or fragment (http:// only with allow_internal)")
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        guard !basePath.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
            throw CofferError(.invalidRequest, "'\(path).base_url' must not contain . or .. segments")
        }
        var provider = GatewayProvider(
            baseURL: base, scheme: scheme, host: host.lowercased(), port: components.port ?? (scheme == "https" ? 443 : 80), basePath: basePath)
        provider.allowInternal = allowInternal
        provider.connectTimeoutMs = try reader.int("connect_timeout_ms", in: 100...60_000) ?? 5_000
        provider.readTimeoutMs = try reader.int("read_timeout_ms", in: 100...300_000) ?? 30_000
        provider.maxResponseBytes = try reader.int("max_response_bytes", in: 1...(64 << 20)) ?? (10 << 20)
        provider.maxConnections = try reader.int("max_connections", in: 1...4_096) ?? 128
        if let credential = reader.value("credential") { provider.credential = try GatewayCredential.parse(credential, path: "\(path).credential") }
        provider.caBundle = try Self.pem(&reader, "ca_bundle", path: path)
        provider.clientCertificate = try Self.pem(&reader, "client_certificate", path: path)
        if let reference = try reader.string("client_key") {
            provider.clientKey = try GatewayCredential.parse(["placement": "bearer", "secret": .string(reference)], path: "\(path).client_key")
        }
        guard (provider.clientCertificate == nil) == (provider.clientKey == nil) else {
            throw CofferError(.invalidRequest, "'\(path)' needs client_certificate and client_key together")
        }
        guard scheme == "https" || (provider.caBundle == nil && provider.clientCertificate == nil) else {
            throw CofferError(.invalidRequest, "'\(path)': ca_bundle and client certificates need an https:// base_url")
        }
        try reader.finish()
        return provider
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        var out: [String: JSONValue] = [
            "base_url": .string(baseURL), "allow_internal": .bool(allowInternal), "connect_timeout_ms": .int(connectTimeoutMs),
            "read_timeout_ms": .int(readTimeoutMs), "max_response_bytes": .int(maxResponseBytes), "max_connections": .int(maxConnections),
        ]
        if let credential { out["credential"] = credential.document }
        if let caBundle { out["ca_bundle"] = .string(caBundle) }
        if let clientCertificate { out["client_certificate"] = .string(clientCertificate) }
        if let clientKey { out["client_key"] = .string("\(clientKey.mount)/\(clientKey.secretPath)#\(clientKey.field)") }
        return .object(out)
    }

    /// A PEM member: certificates only (never a private key: those live in KV), at most 64 KiB.
    static func pem(_ reader: inout StrictObject, _ key: String, path: String) throws(CofferError) -> String? {
        guard let text = try reader.string(key) else { return nil }
        guard text.utf8.count <= 65_536, text.contains("-----BEGIN CERTIFICATE-----"), !text.contains("PRIVATE KEY") else {
            throw CofferError(
                .invalidRequest, "'\(path).\(key)' must be PEM certificates (at most 64 KiB); a private key belongs in KV (client_key)")
        }
        return text
    }
}

/// Where the upstream credential comes from and where it goes. The value is read from a KV secret at
/// call time (encrypted, versioned and audited like every secret), never stored in the project.
public struct GatewayCredential: Sendable, Equatable {
    /// How the credential is sent.
    public enum Placement: String, Sendable, CaseIterable {
        /// `name: value`.
        case header
        /// `Authorization: Bearer value`.
        case bearer
        /// `Authorization: Basic base64(value)`; the secret field holds `user:password`.
        case basic
        /// `?name=value`.
        case query
    }

    /// How it is sent.
    public var placement: Placement
    /// Header or query parameter name (header and query placements).
    public var name: String?
    /// KV mount holding the secret.
    public var mount: String
    /// KV path.
    public var secretPath: String
    /// Field of the secret's latest version.
    public var field: String

    /// Parses `{placement, name?, secret: "mount/path#field"}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayCredential {
        var reader = try StrictObject(value, path: path)
        guard let placement = Placement(rawValue: try reader.requiredString("placement")) else {
            throw CofferError(.invalidRequest, "'\(path).placement' must be header, bearer, basic or query")
        }
        let name = try reader.string("name")
        switch placement {
        case .header:
            let framing: Set<String> = ["host", "content-length", "transfer-encoding", "connection", "cookie", "upgrade", "te", "trailer"]
            guard let name, GatewayHeaders.isToken(name), !framing.contains(name.lowercased()) else {
                throw CofferError(.invalidRequest, "'\(path).name' must be a header name for placement header")
            }
        case .query:
            guard let name, !name.isEmpty, name.utf8.count <= 128 else {
                throw CofferError(.invalidRequest, "'\(path).name' is required for placement query")
            }
        case .bearer, .basic:
            guard name == nil else { throw CofferError(.invalidRequest, "'\(path).name' is only for header and query placements") }
        }
        let reference = try reader.requiredString("secret")
        guard let hash = reference.lastIndex(of: "#"), let slash = reference.firstIndex(of: "/"), slash < hash else {
            throw CofferError(.invalidRequest, "'\(path).secret' must name a KV field as mount/path#field, e.g. secret/gateway/weather#API_KEY")
        }
        let mount = String(reference[..<slash])
        let secretPath = String(reference[reference.index(after: slash)..<hash])
        let field = String(reference[reference.index(after: hash)...])
        guard !mount.isEmpty, !secretPath.isEmpty, !field.isEmpty else {
            throw CofferError(.invalidRequest, "'\(path).secret' must name a KV field as mount/path#field")
        }
        try reader.finish()
        return GatewayCredential(placement: placement, name: name, mount: mount, secretPath: secretPath, field: field)
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        var out: [String: JSONValue] = ["placement": .string(placement.rawValue), "secret": .string("\(mount)/\(secretPath)#\(field)")]
        if let name { out["name"] = .string(name) }
        return .object(out)
    }
}

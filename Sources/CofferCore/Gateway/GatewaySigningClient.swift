/// A client that authenticates to a project by signing its requests (RFC 9421 HTTP Message Signatures,
/// or the simple `x-signature` form), instead of sending a token or key.
public struct GatewaySigningClient: Sendable, Equatable {
    /// How it signs.
    public enum Algorithm: Sendable, Equatable {
        /// HMAC-SHA256 with a shared secret held in KV.
        case hmacSHA256(GatewayCredential)
        /// Ed25519 with the client's public key (32 bytes).
        case ed25519([UInt8])

        /// The RFC 9421 algorithm name.
        public var name: String {
            switch self {
            case .hmacSHA256: "hmac-sha256"
            case .ed25519: "ed25519"
            }
        }
    }

    /// The `keyid` the client signs with (unique within the project).
    public var keyID: String
    /// How it signs.
    public var algorithm: Algorithm
    /// The routes it may call (nil = all of the project's).
    public var routes: [String]?
    /// How far `created` may be from now, either way, seconds.
    public var windowSeconds: Int
    /// Its network allow-list, rate limit and quota.
    public var limits = GatewayClientLimits()

    /// A limit: `limit` calls per `periodSeconds`.
    public struct Limit: Sendable, Equatable {
        /// Calls allowed.
        public var limit: Int
        /// Per this many seconds.
        public var periodSeconds: Int

        static func parse(_ value: JSONValue, path: String) throws(CofferError) -> Limit {
            var reader = try StrictObject(value, path: path)
            let limit = try reader.int("limit", in: 1...1_000_000_000)
            let period = try reader.int("period", in: 1...31 * 86_400)
            try reader.finish()
            guard let limit, let period else { throw CofferError(.invalidRequest, "'\(path)' needs limit and period (seconds)") }
            return Limit(limit: limit, periodSeconds: period)
        }

        var document: JSONValue { ["limit": .int(limit), "period": .int(periodSeconds)] }
    }

    /// Parses `{key_id, algorithm, secret | public_key, routes?, window_seconds?, allowed_cidrs?, rate_limit?, quota?}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewaySigningClient {
        var reader = try StrictObject(value, path: path)
        let keyID = try reader.requiredString("key_id")
        guard !keyID.isEmpty, keyID.utf8.count <= 128,
            keyID.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value < 0x7f && $0 != "\"" && $0 != "\\" })
        else { throw CofferError(.invalidRequest, "'\(path).key_id' must be 1-128 printable ASCII characters without quotes") }
        let algorithm: Algorithm
        switch try reader.requiredString("algorithm") {
        case "hmac-sha256":
            let reference = try reader.requiredString("secret")
            algorithm = .hmacSHA256(try GatewayCredential.parse(["placement": "bearer", "secret": .string(reference)], path: "\(path)"))
        case "ed25519":
            guard let key = Base64.decode(try reader.requiredString("public_key")), key.count == 32 else {
                throw CofferError(.invalidRequest, "'\(path).public_key' must be a base64 Ed25519 public key (32 bytes)")
            }
            algorithm = .ed25519(key)
        default:
            throw CofferError(.invalidRequest, "'\(path).algorithm' must be hmac-sha256 or ed25519")
        }
        let routes = try reader.strings("routes")
        let window = try reader.int("window_seconds", in: 1...300) ?? 30
        var client = GatewaySigningClient(keyID: keyID, algorithm: algorithm, routes: routes, windowSeconds: window)
        client.limits = try GatewayClientLimits.parse(&reader, path: path)
        try reader.finish()
        return client
    }

    /// The document as stored and read back (never a secret: HMAC keys are KV references).
    public var document: JSONValue {
        var out: [String: JSONValue] = ["key_id": .string(keyID), "algorithm": .string(algorithm.name), "window_seconds": .int(windowSeconds)]
        switch algorithm {
        case .hmacSHA256(let credential): out["secret"] = .string("\(credential.mount)/\(credential.secretPath)#\(credential.field)")
        case .ed25519(let key): out["public_key"] = .string(Base64.encode(key))
        }
        if let routes { out["routes"] = .array(routes.map(JSONValue.string)) }
        limits.write(into: &out)
        return .object(out)
    }
}

import Crypto
import Foundation

/// Verifies signed gateway requests: RFC 9421 HTTP Message Signatures (`Signature-Input` and
/// `Signature`, algorithms `hmac-sha256` and `ed25519`, with RFC 9530 `Content-Digest`), and the simple
/// form `x-signature: hex(HMAC-SHA256(secret, timestamp "." method "." path "." body))` with
/// `x-timestamp`. Each refusal has its own code: `REQUEST_SIGNATURE_INVALID` (missing, malformed,
/// unknown key, not covering what it must, or not matching), `SIGNATURE_EXPIRED` (outside the
/// client's window), `CONTENT_DIGEST_MISMATCH` (the body is not the one digested). Replays are the
/// caller's to refuse, with the returned nonce.
public enum RequestSignatures {
    /// The request as received.
    public struct Message: Sendable {
        /// `GET`, `POST`, …
        public var method: String
        /// `http` or `https`.
        public var scheme: String
        /// The `Host` the client used (lowercased).
        public var authority: String
        /// The path as sent (percent-encoded).
        public var rawPath: String
        /// The query as sent, without `?`; nil when there is none.
        public var rawQuery: String?
        /// Headers by lowercase name.
        public var headers: [String: [String]]
        /// The body.
        public var body: [UInt8]

        /// Creates a message.
        public init(method: String, scheme: String, authority: String, rawPath: String, rawQuery: String?, headers: [String: [String]], body: [UInt8])
        {
            self.method = method
            self.scheme = scheme
            self.authority = authority.lowercased()
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.headers = headers
            self.body = body
        }

        /// The target URI as the client addressed it.
        public var targetURI: String { "\(scheme)://\(authority)\(rawPath)" + (rawQuery.map { "?\($0)" } ?? "") }

        func header(_ name: String) -> String? {
            headers[name].map { $0.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ") }
        }
    }

    /// An accepted signature: who signed, and the nonce to remember until `expiresAt` (Unix seconds).
    public struct Accepted: Sendable, Equatable {
        /// The client's name in the project.
        public var client: String
        /// A value seen once per signature (the RFC 9421 nonce, or the simple form's signature).
        public var nonce: String
        /// When the nonce may be forgotten.
        public var expiresAt: Int64
    }

    /// Whether the message carries a signature of either form.
    public static func isSigned(_ message: Message) -> Bool {
        message.headers["signature-input"] != nil || message.headers["x-signature"] != nil
    }

    static func invalid(_ reason: String) -> CofferError { CofferError(.requestSignatureInvalid, "request signature refused: \(reason)") }

    /// Verifies `message` against `clients`; `hmacKey` reads an HMAC client's shared secret.
    public static func verify(
        _ message: Message, clients: [String: GatewaySigningClient], nowSeconds: Int64,
        hmacKey: (GatewayCredential) async throws -> [UInt8]
    ) async throws -> Accepted {
        if message.headers["signature-input"] != nil {
            return try await verifyHTTPMessageSignature(message, clients: clients, nowSeconds: nowSeconds, hmacKey: hmacKey)
        }
        return try await verifySimple(message, clients: clients, nowSeconds: nowSeconds, hmacKey: hmacKey)
    }

    // MARK: RFC 9421

    static func verifyHTTPMessageSignature(
        _ message: Message, clients: [String: GatewaySigningClient], nowSeconds: Int64,
        hmacKey: (GatewayCredential) async throws -> [UInt8]
    ) async throws -> Accepted {
        guard let inputText = message.header("signature-input"), let signatureText = message.header("signature"),
            let inputs = StructuredFields.dictionary(inputText), let signatures = StructuredFields.dictionary(signatureText)
        else { throw invalid("Signature-Input and Signature must both be present and well-formed") }
        guard let (label, input) = inputs.first, inputs.count == 1 else { throw invalid("exactly one signature is accepted") }
        guard let signatureMember = signatures.first(where: { $0.0 == label })?.1, case .bytes(let signature)? = signatureMember.item else {
            throw invalid("no signature for label \(label)")
        }
        guard let list = input.list else { throw invalid("the signature input is not an inner list") }
        guard case .string(let keyID)? = input.parameter("keyid"),
            let (name, client) = clients.first(where: { $0.value.keyID.utf8.elementsEqual(keyID.utf8) })
        else {
            // As much work as a wrong signature (a key read and an HMAC), so timing does not tell which key ids exist.
            if let (_, any) = clients.sorted(by: { $0.key < $1.key }).first {
                _ = try? await check(signature, over: Array(input.raw.utf8), client: any, hmacKey: hmacKey)
            }
            throw invalid("unknown keyid")
        }
        guard case .integer(let created)? = input.parameter("created") else { throw invalid("created is required") }
        guard case .string(let nonce)? = input.parameter("nonce"), !nonce.isEmpty, nonce.utf8.count <= 256 else { throw invalid("nonce is required") }
        if let alg = input.parameter("alg"), alg != .string(client.algorithm.name) { throw invalid("alg does not match the client's algorithm") }
        var components: [String] = []
        for (item, parameters) in list {
            guard case .string(let component) = item, parameters.isEmpty, !components.contains(component) else {
                throw invalid("covered components must be distinct names without parameters")
            }
            components.append(component)
        }
        guard components.contains("@method"), components.contains("@target-uri") else { throw invalid("@method and @target-uri must be covered") }
        if !message.body.isEmpty && !components.contains("content-digest") { throw invalid("content-digest must be covered when there is a body") }
        let base = try signatureBase(message, components: components, signatureParams: input.raw)
        try await check(signature, over: Array(base.utf8), client: client, hmacKey: hmacKey)
        // The window is checked after the signature, so an attacker learns nothing about keys from timing.
        let window = Int64(client.windowSeconds)
        guard abs(nowSeconds - created) <= window else {
            throw CofferError(.signatureExpired, "request signature refused: created is outside the \(window) s window")
        }
        if case .integer(let expires)? = input.parameter("expires"), nowSeconds > expires {
            throw CofferError(.signatureExpired, "request signature refused: expired")
        }
        if components.contains("content-digest") || !message.body.isEmpty { try checkDigest(message) }
        return Accepted(client: name, nonce: "rfc9421:\(keyID):\(nonce)", expiresAt: created + window)
    }

    /// The RFC 9421 signature base: one line per covered component, then `@signature-params` as sent.
    public static func signatureBase(_ message: Message, components: [String], signatureParams: String) throws -> String {
        var base = ""
        for component in components {
            let value: String
            switch component {
            case "@method": value = message.method
            case "@target-uri": value = message.targetURI
            case "@authority": value = message.authority
            case "@scheme": value = message.scheme
            case "@path": value = message.rawPath
            case "@query": value = "?" + (message.rawQuery ?? "")
            default:
                guard !component.hasPrefix("@"), component == component.lowercased(), let header = message.header(component) else {
                    throw invalid("covered component \(component) is missing or unsupported")
                }
                value = header
            }
            guard GatewayHeaders.isSafeValue(value) else { throw invalid("a covered value holds control characters") }
            base += "\"\(component)\": \(value)\n"
        }
        return base + "\"@signature-params\": \(signatureParams)"
    }

    /// RFC 9530: the `Content-Digest` header's sha-256 or sha-512 must be the body's.
    static func checkDigest(_ message: Message) throws {
        guard let text = message.header("content-digest"), let members = StructuredFields.dictionary(text) else {
            throw CofferError(.contentDigestMismatch, "Content-Digest is missing or malformed")
        }
        var checked = false
        for (algorithm, member) in members {
            guard case .bytes(let digest)? = member.item else { continue }
            let actual: [UInt8]
            switch algorithm {
            case "sha-256": actual = Array(SHA256.hash(data: message.body))
            case "sha-512": actual = Array(SHA512.hash(data: message.body))
            default: continue
            }
            guard constantTimeEqual(actual, digest) else { throw CofferError(.contentDigestMismatch, "the body does not match Content-Digest") }
            checked = true
        }
        guard checked else { throw CofferError(.contentDigestMismatch, "Content-Digest has no sha-256 or sha-512 member") }
    }

    static func check(
        _ signature: [UInt8], over base: [UInt8], client: GatewaySigningClient, hmacKey: (GatewayCredential) async throws -> [UInt8]
    ) async throws {
        switch client.algorithm {
        case .hmacSHA256(let credential):
            let key = SymmetricKey(data: try await hmacKey(credential))
            guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: base, using: key) else {
                throw invalid("the signature does not match")
            }
        case .ed25519(let publicKey):
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey), key.isValidSignature(signature, for: base) else {
                throw invalid("the signature does not match")
            }
        }
    }

    // MARK: Simple form

    static func verifySimple(
        _ message: Message, clients: [String: GatewaySigningClient], nowSeconds: Int64,
        hmacKey: (GatewayCredential) async throws -> [UInt8]
    ) async throws -> Accepted {
        guard let hex = message.header("x-signature"), let signature = fromHex(hex), signature.count == 32,
            let timestampText = message.header("x-timestamp"), timestampText.count <= 12, let timestamp = Int64(timestampText)
        else { throw invalid("x-signature (64 hex digits) and x-timestamp (Unix seconds) are required") }
        let keyID = message.header("x-key-id")
        let candidates = clients.sorted { $0.key < $1.key }.filter { entry in
            if case .hmacSHA256 = entry.value.algorithm { return keyID.map { entry.value.keyID.utf8.elementsEqual($0.utf8) } ?? true }
            return false
        }
        guard !candidates.isEmpty else {
            // As much work as a wrong signature, so timing does not tell which key ids exist.
            if let (_, any) = clients.sorted(by: { $0.key < $1.key }).first(where: {
                if case .hmacSHA256 = $0.value.algorithm { true } else { false }
            }) {
                _ = try? await check(signature, over: Array("\(timestampText).\(message.method).".utf8) + message.body, client: any, hmacKey: hmacKey)
            }
            throw invalid("no HMAC client matches")
        }
        let path = message.rawPath + (message.rawQuery.map { "?\($0)" } ?? "")
        let base = Array("\(timestampText).\(message.method).\(path).".utf8) + message.body
        var matched: (String, GatewaySigningClient)?
        for (name, client) in candidates {
            guard case .hmacSHA256(let credential) = client.algorithm else { continue }
            let key = SymmetricKey(data: try await hmacKey(credential))
            if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: base, using: key), matched == nil { matched = (name, client) }
        }
        guard let (name, client) = matched else { throw invalid("the signature does not match") }
        let window = Int64(client.windowSeconds)
        guard abs(nowSeconds - timestamp) <= window else {
            throw CofferError(.signatureExpired, "request signature refused: x-timestamp is outside the \(window) s window")
        }
        return Accepted(client: name, nonce: "simple:\(hex.lowercased())", expiresAt: timestamp + window)
    }

    static func fromHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        case 0x41...0x46: byte - 0x41 + 10
        default: nil
        }
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}

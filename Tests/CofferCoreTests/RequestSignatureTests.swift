import CofferTestSupport
import Crypto
import Foundation
import Testing

@testable import CofferCore

/// Signed gateway requests: RFC 9421's published example, then every way a signed request can be
/// altered, each with its own code.
@Suite("Gateway request signatures (RFC 9421, RFC 9530, simple HMAC)")
struct RequestSignatureTests {
    /// RFC 9421 Appendix B.1.5: the `test-shared-secret` key.
    static let rfcSecret = Base64.decode("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==") ?? []

    /// RFC 9421 Appendix B.2.5: signature base and HMAC-SHA256 signature of the test request.
    @Test func rfc9421HMACExampleVerifies() throws {
        let message = RequestSignatures.Message(
            method: "POST", scheme: "https", authority: "example.com", rawPath: "/foo", rawQuery: "param=Value&Pet=dog",
            headers: ["date": ["Tue, 20 Apr 2021 02:07:55 GMT"], "content-type": ["application/json"]], body: Array(#"{"hello": "world"}"#.utf8))
        let input = #"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#
        let member = try #require(StructuredFields.dictionary(input)?.first)
        #expect(member.0 == "sig-b25" && member.1.raw == #"("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#)
        let base = try RequestSignatures.signatureBase(message, components: ["date", "@authority", "content-type"], signatureParams: member.1.raw)
        #expect(
            base
                == "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@authority\": example.com\n\"content-type\": application/json\n"
                + #""@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#)
        let signature = try #require(StructuredFields.dictionary("sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:")?.first?.1.item)
        guard case .bytes(let bytes) = signature else { Issue.record("not bytes"); return }
        #expect(HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Array(base.utf8), using: SymmetricKey(data: Self.rfcSecret)))
    }

    @Test func structuredFieldsAreParsedStrictly() {
        #expect(StructuredFields.dictionary(#"a=("x" "y");n=1;s="t", b=:AAE=:, c"#)?.count == 3)
        for bad in [#"A=1"#, #"a=("x""#, #"a=:not base64!:"#, #"a="unterminated"#, #"a=1,"#, #"a=1, a=2"#, #"a=1.5"#, "a=\"\u{1}\""] {
            #expect(StructuredFields.dictionary(bad) == nil, "\(bad)")
        }
    }

    static let secret = Array("client-shared-secret-0123456789".utf8)
    static let edKey = Curve25519.Signing.PrivateKey()
    static let now: Int64 = 1_790_000_000
    static let clients: [String: GatewaySigningClient] = [
        "backend": GatewaySigningClient(
            keyID: "backend-1",
            algorithm: .hmacSHA256(GatewayCredential(placement: .bearer, name: nil, mount: "secret", secretPath: "c", field: "K")),
            routes: nil, windowSeconds: 30),
        "edge": GatewaySigningClient(keyID: "edge-1", algorithm: .ed25519(Array(edKey.publicKey.rawRepresentation)), routes: nil, windowSeconds: 30),
    ]

    /// A request signed the RFC 9421 way with `@method`, `@target-uri` and `content-digest`.
    static func signed(
        method: String = "POST", path: String = "/v1/gateway/root/w/call/orders", query: String? = "a=1", body: String = #"{"item":"x"}"#,
        keyID: String = "backend-1", created: Int64 = now, nonce: String? = "n-1", ed25519: Bool = false
    ) throws -> RequestSignatures.Message {
        let digest = "sha-256=:" + Base64.encode(Array(SHA256.hash(data: Array(body.utf8)))) + ":"
        var parameters = ";created=\(created);keyid=\"\(keyID)\";alg=\"\(ed25519 ? "ed25519" : "hmac-sha256")\""
        if let nonce { parameters += ";nonce=\"\(nonce)\"" }
        let params = #"("@method" "@target-uri" "content-digest")"# + parameters
        var message = RequestSignatures.Message(
            method: method, scheme: "http", authority: "127.0.0.1:8200", rawPath: path, rawQuery: query,
            headers: ["content-digest": [digest], "signature-input": ["sig1=" + params]], body: Array(body.utf8))
        let base = Array(
            try RequestSignatures.signatureBase(message, components: ["@method", "@target-uri", "content-digest"], signatureParams: params).utf8)
        let signature: [UInt8] =
            ed25519 ? Array(try edKey.signature(for: base)) : Array(HMAC<SHA256>.authenticationCode(for: base, using: SymmetricKey(data: secret)))
        message.headers["signature"] = ["sig1=:" + Base64.encode(signature) + ":"]
        return message
    }

    static func verify(_ message: RequestSignatures.Message, at now: Int64 = now) async throws -> RequestSignatures.Accepted {
        try await RequestSignatures.verify(message, clients: clients, nowSeconds: now) { _ in secret }
    }

    @Test func goodSignaturesAreAcceptedWithTheirNonce() async throws {
        #expect(try await Self.verify(try Self.signed()) == .init(client: "backend", nonce: "rfc9421:backend-1:n-1", expiresAt: Self.now + 30))
        #expect(try await Self.verify(try Self.signed(keyID: "edge-1", ed25519: true)).client == "edge")
        #expect(try await Self.verify(try Self.signed(), at: Self.now + 30).client == "backend")
    }

    @Test func everyAlterationHasItsCode() async throws {
        func expectCode(_ code: ErrorCode, _ message: RequestSignatures.Message, at now: Int64 = Self.now, _ what: String) async {
            do {
                _ = try await Self.verify(message, at: now)
                Issue.record("\(what) was accepted")
            } catch let error as CofferError {
                #expect(error.code == code, "\(what): \(error)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        var message = try Self.signed()
        message.method = "PUT"
        await expectCode(.requestSignatureInvalid, message, "method")
        message = try Self.signed()
        message.rawPath += "x"
        await expectCode(.requestSignatureInvalid, message, "path")
        message = try Self.signed()
        message.rawQuery = "a=2"
        await expectCode(.requestSignatureInvalid, message, "query")
        message = try Self.signed()
        message.body = Array(#"{"item":"y"}"#.utf8)
        await expectCode(.contentDigestMismatch, message, "body")
        message = try Self.signed()
        message.headers["content-digest"] = ["sha-256=:" + Base64.encode([UInt8](repeating: 0, count: 32)) + ":"]
        await expectCode(.requestSignatureInvalid, message, "digest header")
        await expectCode(.signatureExpired, try Self.signed(), at: Self.now + 31, "created too old")
        await expectCode(.signatureExpired, try Self.signed(created: Self.now + 31), "created in the future")
        await expectCode(.requestSignatureInvalid, try Self.signed(keyID: "nobody"), "unknown keyid")
        await expectCode(.requestSignatureInvalid, try Self.signed(nonce: nil), "no nonce")
        await expectCode(.requestSignatureInvalid, try Self.signed(keyID: "edge-1"), "hmac alg for an ed25519 client")
        message = try Self.signed()
        message.headers["signature"] = ["sig2=:AAAA:"]
        await expectCode(.requestSignatureInvalid, message, "label mismatch")
        message = try Self.signed()
        message.headers["signature-input"] = [#"sig1=("@method");created=1790000000;keyid="backend-1";nonce="n""#]
        await expectCode(.requestSignatureInvalid, message, "not covering @target-uri")
    }

    static func simple(
        method: String = "GET", path: String = "/v1/gateway/root/w/call/forecast/Bern", query: String? = nil, timestamp: Int64 = now,
        body: String = ""
    )
        -> RequestSignatures.Message
    {
        let target = path + (query.map { "?\($0)" } ?? "")
        let base = Array("\(timestamp).\(method).\(target).".utf8) + Array(body.utf8)
        let hex = HMAC<SHA256>.authenticationCode(for: base, using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
        return RequestSignatures.Message(
            method: method, scheme: "http", authority: "h", rawPath: path, rawQuery: query,
            headers: ["x-signature": [hex], "x-timestamp": [String(timestamp)]], body: Array(body.utf8))
    }

    @Test func theSimpleFormVerifiesAndRefuses() async throws {
        let accepted = try await Self.verify(Self.simple())
        #expect(accepted.client == "backend" && accepted.nonce.hasPrefix("simple:"))
        var tampered = Self.simple()
        tampered.rawPath += "x"
        await expectError(.requestSignatureInvalid) { _ = try await Self.verify(tampered) }
        await expectError(.signatureExpired) { _ = try await Self.verify(Self.simple(timestamp: Self.now - 60)) }
        var garbled = Self.simple()
        garbled.headers["x-signature"] = ["zz"]
        await expectError(.requestSignatureInvalid) { _ = try await Self.verify(garbled) }
    }
}

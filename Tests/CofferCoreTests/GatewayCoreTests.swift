import CofferTestSupport
import Foundation
import Testing

@testable import CofferCore

@Suite("Gateway rules: addresses, paths, queries, schemas")
struct GatewayCoreTests {
    static func bytes(_ text: String) -> [UInt8] {
        if text.contains(":") {
            var address = in6_addr()
            _ = inet_pton(AF_INET6, text, &address)
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        _ = inet_pton(AF_INET, text, &address)
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    @Test(arguments: [
        "0.0.0.0", "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "100.127.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9", "224.0.0.1",
        "240.0.0.1", "255.255.255.255", "::", "::1", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "2001:db8::1", "2002:7f00:1::", "::127.0.0.1", "fec0::1", "100::1",
    ])
    func nonPublicAddressesAreRefused(_ address: String) {
        #expect(!UpstreamAddressPolicy.isPublic(Self.bytes(address)), "\(address)")
    }

    @Test(arguments: ["1.1.1.1", "8.8.8.8", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"])
    func publicAddressesAreAllowed(_ address: String) {
        #expect(UpstreamAddressPolicy.isPublic(Self.bytes(address)), "\(address)")
    }

    @Test func pathsAreMatchedOnDecodedSegmentsAndRebuiltEncoded() throws {
        let template = try RouteTemplate("/forecast/{city}/days/{n}")
        #expect(template.parameterNames == ["city", "n"])
        let segments = try #require(RouteTemplate.decodedSegments("/forecast/Z%C3%BCrich%20West/days/3"))
        #expect(template.match(segments) == ["city": "Zürich West", "n": "3"])
        #expect(template.expand(["city": "a/b?c#d", "n": "../x"]) == "/forecast/a%2Fb%3Fc%23d/days/..%2Fx")
        for unsafe in ["/a/..", "/a/%2e%2E", "/a/b%2Fc", "/a/%0d%0a", "/a/%00", "/a/%zz", "/a/%7F", "relative"] {
            #expect(RouteTemplate.decodedSegments(unsafe) == nil, "\(unsafe)")
        }
        #expect(template.match(["forecast", "x", "days"]) == nil)
        #expect(template.match(["forecast", "", "days", "1"]) == nil)
        for bad in ["no-slash", "/a//b", "/a/../b", "/{a}/{a}", "/{1a}", "/a b", "/{a-b}"] {
            expectError(.invalidRequest) { _ = try RouteTemplate(bad) }
        }
        // Literals match byte for byte: U+037E GREEK QUESTION MARK is canonically equivalent to ';' for Swift's ==.
        let literal = try RouteTemplate("/a;b")
        #expect(literal.match(["a;b"]) == [:])
        #expect(literal.match(["a\u{37E}b"]) == nil)
    }

    @Test func queriesAreDecodedStrictly() throws {
        #expect(try GatewayQuery.pairs("a=1&b=x+y&c=%C3%A9&d").map { "\($0.0)=\($0.1)" } == ["a=1", "b=x y", "c=é", "d="])
        for bad in ["a=%zz", "a=%0A", "a%00=1"] {
            expectError(.invalidRequest) { _ = try GatewayQuery.pairs(bad) }
        }
    }

    @Test func schemasCheckTypesBoundsAndUndeclaredFields() throws {
        let schema = try ParameterSchema.parse(
            [
                "type": "object", "required": ["id"],
                "properties": [
                    "id": ["type": "integer", "minimum": 1], "tags": ["type": "array", "items": ["type": "string", "maxLength": 3], "maxItems": 2],
                    "mode": ["enum": ["a", "b"]],
                ],
            ], path: "body")
        try schema.validate(["id": 1, "tags": ["x", "yz"], "mode": "a"], path: "body")
        let refused: [JSONValue] = [
            ["tags": []], ["id": 0], ["id": 1.5], ["id": "1"], ["id": 1, "extra": true], ["id": 1, "tags": ["long"]],
            ["id": 1, "tags": ["a", "b", "c"]],
            ["id": 1, "mode": "c"], "not an object",
        ]
        for value in refused { expectError(.invalidRequest) { try schema.validate(value, path: "body") } }
        // Bounds past 2^53 compare exactly, not through Double (which rounds 2^53 + 1 down to 2^53).
        let big = try ParameterSchema.parse(["type": "integer", "maximum": 9_007_199_254_740_992], path: "n")
        #expect(try big.validate(text: "9007199254740992", path: "n") == 9_007_199_254_740_992)
        expectError(.invalidRequest) { _ = try big.validate(text: "9007199254740993", path: "n") }
        expectError(.invalidRequest) {
            _ = try ParameterSchema.parse(["type": "number", "maximum": 10], path: "x").validate(text: "1e400", path: "x")
        }
        let integer = try ParameterSchema.parse(["type": "integer", "maximum": 14], path: "days")
        #expect(try integer.validate(text: "3", path: "days") == 3)
        for text in ["15", "3.5", "x", "", "1e400"] { expectError(.invalidRequest) { _ = try integer.validate(text: text, path: "days") } }
        for bad: JSONValue in [["type": "uuid"], ["pattern": "^a"], ["minimum": "1"], ["enum": []], ["items": "x"], ["additionalProperties": 1]] {
            expectError(.invalidRequest) { _ = try ParameterSchema.parse(bad, path: "s") }
        }
    }

    @Test func originsMatchByteForByte() throws {
        let project = try GatewayProject.parse(name: "p", ["allowed_origins": ["https://a.example;x"]], environment: .staging)
        #expect(project.allows(origin: "https://a.example;x"))
        #expect(!project.allows(origin: "https://a.example\u{37E}x"), "canonically equivalent, different bytes")
        #expect(!project.lists(origin: "https://b.example"))
    }

    @Test func wildcardOriginsOnlyOutsideProduction() throws {
        try GatewayOrigin.check("*", environment: .staging)
        expectError(.invalidRequest) { try GatewayOrigin.check("*", environment: .production) }
        try GatewayOrigin.check("https://app.example.com:8443", environment: .production)
        for bad in [
            "https://App.example.com", "https://app.example.com/", "app.example.com", "ftp://x.example", "https://u@x.example", "https://x.example?q",
        ] {
            expectError(.invalidRequest) { try GatewayOrigin.check(bad, environment: .development) }
        }
    }
}

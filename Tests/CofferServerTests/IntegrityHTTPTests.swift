import CofferCore
import CofferServer
import CofferStore
import CofferTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Regression tests for issue 9 over HTTP: each one failed on the code before the fix.
@Suite("HTTP: integrity and hardening")
struct IntegrityHTTPTests {
    /// Where a client-supplied duration reaches arithmetic. A viewer (or any caller) sending a huge one
    /// used to kill the process with an overflow trap; now each is a 400 and the server stays up.
    enum DurationEntry: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case tokenTTL, kvDeleteVersionAfter, apiKeyTTL, apiKeyRatePeriod, apiKeyQuotaPeriod, auditRetentionBefore, auditReportPeriod
        var testDescription: String { rawValue }
    }

    @Test(arguments: DurationEntry.allCases, ["106751991167301d", "9223372036854775807s", "99999999999999999999999"])
    func hugeDurationsAreRefusedAndTheServerStaysUp(entry: DurationEntry, huge: String) async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let viewer = try await client.token(root, role: "viewer")
            let reply: Fixture.Client.Reply
            switch entry {
            case .tokenTTL:
                reply = try await client.call(.post, "/v1/auth/token/create", token: viewer, json: ["ttl": .string(huge)])
            case .kvDeleteVersionAfter:
                reply = try await client.call(.post, "/v1/secret/metadata/app", token: root, json: ["delete_version_after": .string(huge)])
            case .apiKeyTTL:
                reply = try await client.call(.post, "/v1/keys", token: root, json: ["name": "k", "ttl": .string(huge)])
            case .apiKeyRatePeriod:
                reply = try await client.call(
                    .post, "/v1/keys", token: root, json: ["name": "k", "rate_limit": ["limit": 5, "period": .string(huge)]])
            case .apiKeyQuotaPeriod:
                reply = try await client.call(.post, "/v1/keys", token: root, json: ["name": "k", "quota": ["limit": 5, "period": .string(huge)]])
            case .auditRetentionBefore:
                reply = try await client.call(.post, "/v1/audit/retention", token: root, json: ["before": .string(huge)])
            case .auditReportPeriod:
                reply = try await client.call(.get, "/v1/audit/report?period=\(huge)", token: root)
            }
            #expect(reply.status == .badRequest && reply.code == "INVALID_REQUEST", "\(entry): \(reply.raw)")
            #expect(try await client.call(.get, "/v1/sys/health").status == .ok)
        }
    }

    @Test func hugeNumericDurationsAreRefusedToo() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            for number in ["9223372036854775807", "1e400", "-1", "1.5"] {
                let body = Array(#"{"ttl":"#.utf8) + Array(number.utf8) + [UInt8(ascii: "}")]
                let reply = try await client.call(.post, "/v1/auth/token/create", token: fixture.rootToken, rawBody: body)
                #expect(reply.status == .badRequest && reply.code == "INVALID_REQUEST", "\(number)")
            }
        }
    }

    /// `{"n":12345678901234567}` used to read back as `1.2345678901234568e+16`.
    @Test func jsonNumbersAreStoredAndReturnedExactly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let numbers = [
                "12345678901234567", "123456789012345678901234567890", "-0", "1e400", "0.1000000000000000055511151231257827",
                "-9.87654321098765432109876543210e-300", "9007199254740993", "2E+3",
            ]
            let members = numbers.enumerated().map { #""n\#($0.offset)":\#($0.element)"# }.joined(separator: ",")
            let body = Array(#"{"data":{\#(members),"nested":[1.000,{"x":-0.0}]}}"#.utf8)
            let written = try await client.call(.put, "/v1/secret/data/num", token: fixture.rootToken, rawBody: body)
            #expect(written.status == .ok)
            let read = try await client.call(.get, "/v1/secret/data/num", token: fixture.rootToken)
            for number in numbers { #expect(read.raw.contains(":\(number)"), "\(number) altered in \(read.raw)") }
            #expect(read.raw.contains(#""nested":[1.000,{"x":-0.0}]"#))
            // Byte-for-byte: the data object is the canonical form of exactly what was sent.
            let sent = try #require(JSONValue.parse(body)?["data"])
            #expect(read.data["data"] == sent)

            // The same holds through protect/unprotect (a JSON payload is carried as canonical JSON).
            try await client.call(.post, "/v1/transit/keys/pay", token: fixture.rootToken, json: [:])
            try await client.call(.put, "/v1/policies/P-NUM", token: fixture.rootToken, json: ["mode": "encrypt", "encryption_key": "pay"])
            let payload = Array(#"{"payload":{"amount":12345678901234567.891,"id":123456789012345678901234567890}}"#.utf8)
            let protected = try await client.call(.post, "/v1/protect/P-NUM", token: fixture.rootToken, rawBody: payload)
            let token = try #require(protected.data["protected"]?.stringValue, "\(protected.raw)")
            let opened = try await client.call(.post, "/v1/unprotect/P-NUM", token: fixture.rootToken, json: ["protected": .string(token)])
            #expect(opened.raw.contains("12345678901234567.891") && opened.raw.contains("123456789012345678901234567890"), "\(opened.raw)")
        }
    }

    /// A secret stored as a JSON number used to appear in clear in the audit entry's body; it is now
    /// hashed by its exact literal, which `sys/audit-hash` reproduces.
    @Test func numericSecretsAreHashedInTheAuditLogByTheirLiteral() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let body = Array(#"{"data":{"pin":49217,"account":12345678901234567}}"#.utf8)
            let written = try await client.call(.put, "/v1/secret/data/bank", token: fixture.rootToken, rawBody: body)
            let requestID = try #require(written.body["request_id"]?.stringValue)
            let entries = try await client.call(.get, "/v1/audit/entries?request_id=\(requestID)", token: fixture.rootToken)
            #expect(entries.status == .ok && !entries.raw.contains("49217") && !entries.raw.contains("12345678901234567"), "\(entries.raw)")
            let hashed = try await client.call(.post, "/v1/sys/audit-hash", token: fixture.rootToken, json: ["input": "12345678901234567"])
            let expected = try #require(hashed.data["hash"]?.stringValue)
            #expect(entries.raw.contains(expected), "the entry holds the HMAC of the number's exact text")
        }
    }

    /// Python's `json` (with `Decimal` for floats and exact ints) reads what Coffer returns as equal to what was sent.
    @Test func numbersMatchPythonsJSONRoundTrip() async throws {
        let corpus = [
            #"{"a":12345678901234567,"b":123456789012345678901234567890,"c":-0,"d":0.30000000000000004441}"#,
            #"{"e":1E400,"f":[1e-400,-1.5e+10,18446744073709551616],"g":{"h":3.14159265358979323846264338327950288}}"#,
        ]
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            for (index, document) in corpus.enumerated() {
                let body = Array((#"{"data":"# + document + "}").utf8)
                try await client.call(.put, "/v1/secret/data/py\(index)", token: fixture.rootToken, rawBody: body)
                let read = try await client.call(.get, "/v1/secret/data/py\(index)", token: fixture.rootToken)
                let returned = String(decoding: try #require(read.data["data"]).canonicalBytes(), as: UTF8.self)
                let script = """
                    import json, sys
                    from decimal import Decimal
                    sent, back = sys.argv[1], sys.argv[2]
                    load = lambda s: json.loads(s, parse_float=Decimal, parse_int=int, parse_constant=lambda c: c)
                    sys.exit(0 if load(sent) == load(back) else 1)
                    """
                let python = Process()
                python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                python.arguments = ["python3", "-c", script, document, returned]
                try python.runSerially()
                python.waitUntilExit()
                #expect(python.terminationStatus == 0, "python reads \(returned) differently from \(document)")
            }
        }
    }

    /// A viewer token minted by a modifier used to keep working after the modifier was revoked.
    @Test func revokingAParentRevokesItsChildrenTransitively() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["k": "v"]])
            let modifier = try await client.token(root, role: "modifier")
            let viewer = try await client.token(modifier, role: "viewer")
            let grandchild = try await client.token(viewer, role: "viewer")
            let sibling = try await client.token(root, role: "viewer")
            let modifierAccessor = try #require(
                try await client.call(.get, "/v1/auth/token/lookup-self", token: modifier).data["accessor"]?.stringValue)
            let viewerAccessor = try #require(try await client.call(.get, "/v1/auth/token/lookup-self", token: viewer).data["accessor"]?.stringValue)
            #expect(try await client.call(.get, "/v1/secret/data/app", token: viewer).status == .ok)

            let revoked = try await client.call(.post, "/v1/auth/token/revoke-accessor", token: root, json: ["accessor": .string(modifierAccessor)])
            #expect(revoked.status == .noContent)
            for token in [modifier, viewer, grandchild] {
                let read = try await client.call(.get, "/v1/secret/data/app", token: token)
                #expect(read.status == .forbidden && read.code == "UNAUTHENTICATED")
                #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED")
            }
            let described = try await client.call(.post, "/v1/auth/token/lookup-accessor", token: root, json: ["accessor": .string(viewerAccessor)])
            #expect(described.data["revoked"] == true && described.data["orphan"] == false)
            #expect(try await client.call(.get, "/v1/secret/data/app", token: sibling).status == .ok, "other branches are untouched")
            #expect(try await client.call(.get, "/v1/secret/data/app", token: root).status == .ok, "the parent of the revoked token is untouched")
        }
    }

    /// The create answer used to report the requested TTL although the parent's expiry capped it.
    @Test func tokenCreateReportsTheTTLActuallyGranted() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let parent = try await client.token(fixture.rootToken, role: "modifier", ttl: "1h")
            let child = try await client.call(.post, "/v1/auth/token/create", token: parent, json: ["role": "viewer", "ttl": "720h"])
            #expect(child.body["auth"]?["lease_duration"] == 3600)
            let token = try #require(child.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).data["ttl"] == 3600)
            let plain = try await client.call(.post, "/v1/auth/token/create", token: fixture.rootToken, json: ["role": "viewer", "ttl": "30m"])
            #expect(plain.body["auth"]?["lease_duration"] == 1800)
        }
    }

    /// `café` in NFC and NFD used to be two secrets, with a key scoped to one form reading the other.
    @Test func oneUnicodeNormalFormForPathsScopesAndList() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let nfc = "caf\u{E9}"
            let nfd = "cafe\u{301}"
            let escape = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
            try await client.call(.post, "/v1/secret/data/menu/\(escape(nfc))", token: root, json: ["data": ["v": "1"]])
            let second = try await client.call(.post, "/v1/secret/data/menu/\(escape(nfd))", token: root, json: ["data": ["v": "2"]])
            #expect(second.data["version"] == 2, "the NFD path is the same secret as the NFC one")
            let listed = try await client.call(.get, "/v1/secret/metadata/menu?list=true", token: root)
            #expect(listed.data["keys"] == [.string(nfc)])
            try await client.call(.post, "/v1/secret/data/\(escape(nfd))/inner", token: root, json: ["data": ["v": "3"]])
            let folder = try await client.call(.get, "/v1/secret/metadata/\(escape(nfd))?list=true", token: root)
            #expect(folder.status == .ok && folder.data["keys"] == ["inner"], "\(folder.raw)")

            // A key scoped to either form reaches exactly that one secret, by bytes after NFC.
            let created = try await client.call(
                .post, "/v1/keys", token: root, json: ["name": "menu", "scopes": [.string("kv:read:secret/menu/\(nfd)")]])
            let key = try #require(created.data["key"]?.stringValue)
            #expect(try await client.call(.get, "/v1/secret/data/menu/\(escape(nfc))", bearer: key).status == .ok)
            try await client.call(.post, "/v1/secret/data/menu/cafe", token: root, json: ["data": ["v": "x"]])
            #expect(try await client.call(.get, "/v1/secret/data/menu/cafe", bearer: key).code == "PERMISSION_DENIED")
        }
    }

    /// A submitted scope used to be echoed in the error of `POST /v1/keys`.
    @Test func keyErrorsDoNotEchoTheSubmittedScope() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let viewerKey = try await client.call(.post, "/v1/keys", token: fixture.rootToken, json: ["name": "v", "scopes": ["kv:read"]])
            let key = try #require(viewerKey.data["key"]?.stringValue)
            for scopes: JSONValue in [["kv:read:CANARY-7f3a value"], ["tenants:CANARY-7f3a"], ["kv:write:CANARY-7f3a"]] {
                let reply = try await client.call(.post, "/v1/keys", bearer: key, json: ["name": "x", "scopes": scopes])
                #expect(reply.status == .badRequest || reply.status == .forbidden)
                #expect(!reply.raw.contains("CANARY"), "\(reply.raw)")
            }
        }
    }

    /// A stored role Coffer does not know used to read as `viewer`.
    @Test func unknownStoredValuesFailClosedOverHTTP() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let viewer = try await client.token(fixture.rootToken, role: "viewer")
            let accessor = try #require(try await client.call(.get, "/v1/auth/token/lookup-self", token: viewer).data["accessor"]?.stringValue)
            try await fixture.storage.database.query("UPDATE tokens SET role = 'owner' WHERE accessor = $1", [.text(accessor)])
            fixture.storage.invalidateCaches()
            let reply = try await client.call(.get, "/v1/secret/data/app", token: viewer)
            #expect(reply.status == .internalServerError && reply.code == "STORAGE_CORRUPT")
            #expect(!reply.raw.contains("owner"))
        }
    }

    /// Sends raw bytes to a live server and returns the whole response. The blocking socket calls run on
    /// a thread of their own: the server's handlers run on Swift's cooperative pool, which must stay free.
    static func raw(port: Int, _ request: String) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try blockingRaw(port: port, request) })
            }
            thread.start()
        }
    }

    static func blockingRaw(port: Int, _ request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CofferError(.internalError, "socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CofferError(.internalError, "connect") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
            if let text = String(validating: out, as: UTF8.self), let split = text.range(of: "\r\n\r\n"),
                let length = text[..<split.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") })
                    .flatMap({ Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }),
                text.utf8.count - text[..<split.upperBound].utf8.count >= length
            {
                break
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A chunked body over the limit used to answer 500 `NIOTooManyBytesError`.
    @Test func chunkedBodyOverTheLimitIs413() async throws {
        let fixture = try await Fixture.make(maxBodyBytes: 1024)
        try await fixture.testLive { client in
            let port = try #require(client.client.port)
            let chunk = String(repeating: "a", count: 800)
            let hex = String(chunk.utf8.count, radix: 16)
            let request =
                "POST /v1/secret/data/big HTTP/1.1\r\nHost: x\r\nX-Vault-Token: \(fixture.rootToken)\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Type: application/json\r\n\r\n"
                + "\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n"
            let response = try await Self.raw(port: port, request)
            #expect(response.hasPrefix("HTTP/1.1 413"), "\(response.prefix(200))")
            #expect(response.contains("PAYLOAD_TOO_LARGE"))
        }
    }

    /// Responses the HTTP parser writes used to carry neither a request id nor the security headers.
    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "POST /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx",
        "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ])
    func malformedRequestsGetARequestIDAndTheSecurityHeaders(request: String) async throws {
        let fixture = try await Fixture.make()
        try await fixture.testLive { client in
            let port = try #require(client.client.port)
            let response = try await Self.raw(port: port, request)
            let head = response.components(separatedBy: "\r\n\r\n").first?.lowercased() ?? ""
            #expect(response.hasPrefix("HTTP/1.1 400"), "\(response)")
            #expect(head.contains("x-request-id: "), "\(response)")
            #expect(head.contains("x-content-type-options: nosniff") && head.contains("cache-control: no-store"))
            #expect(response.contains(#""code":"INVALID_REQUEST""#))
            #expect(try await client.call(.get, "/v1/sys/health").status == .ok)
        }
    }
}

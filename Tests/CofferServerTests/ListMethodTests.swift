import CofferCore
import HTTPTypes
import NIOCore
import NIOEmbedded
import Testing

@testable import CofferServer

@Suite("LIST verb support")
struct ListMethodTests {
    func run(_ chunks: [String]) throws -> String {
        let channel = EmbeddedChannel(handler: ListMethodRewriter())
        for chunk in chunks { try channel.writeInbound(ByteBuffer(string: chunk)) }
        var out = ""
        while var buffer = try channel.readInbound(as: ByteBuffer.self) { out += buffer.readString(length: buffer.readableBytes) ?? "" }
        _ = try channel.finish()
        return out
    }

    @Test func rewritesListToGetWithListQuery() throws {
        #expect(
            try run(["LIST /v1/secret/metadata/app HTTP/1.1\r\nHost: x\r\n\r\n"])
                == "GET /v1/secret/metadata/app?list=true HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try run(["LIST /v1/x?a=1 HTTP/1.1\r\n\r\n"]) == "GET /v1/x?a=1&list=true HTTP/1.1\r\n\r\n")
    }

    @Test func handlesHeadsSplitAcrossReadsAndPipelining() throws {
        let body = "{\"data\":{\"k\":\"LIST /evil HTTP/1.1\"}}"
        let input = "LIST /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)LIST /c HTTP/1.1\r\n\r\n"
        let expected =
            "GET /a?list=true HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)GET /c?list=true HTTP/1.1\r\n\r\n"
        #expect(try run([input]) == expected)
        // Byte by byte gives the same result.
        #expect(try run(input.map { String($0) }) == expected)
    }

    @Test func bodiesAreNeverRewritten() throws {
        let body = "LIST /x HTTP/1.1\r\n\r\n"
        let input = "PUT /b HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        #expect(try run([input]) == input)
    }

    @Test func unclearFramingPassesThroughUntouched() throws {
        let chunked = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nLIST \r\n0\r\n\r\nLIST /c HTTP/1.1\r\n\r\n"
        #expect(try run([chunked]) == chunked)
        let twoLengths = "POST /b HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxxLIST /c HTTP/1.1\r\n\r\n"
        #expect(try run([twoLengths]) == twoLengths)
        let huge = "GET /" + String(repeating: "a", count: 70_000)
        #expect(try run([huge]) == huge)
    }

    /// A TLS ClientHello sent to the plain port is handed to the HTTP parser at once (which refuses
    /// it), instead of being held while waiting for a head end that never comes.
    @Test func bytesThatCannotBeARequestPassThroughAtOnce() throws {
        let channel = EmbeddedChannel(handler: ListMethodRewriter())
        let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]
        try channel.writeInbound(ByteBuffer(bytes: clientHello))
        var passed = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(passed.readBytes(length: passed.readableBytes) == clientHello)
        _ = try channel.finish()
        #expect(ListFraming.cannotBeRequest(Array("\r\nGE\u{1}".utf8)))
        #expect(ListFraming.cannotBeRequest(Array(String(repeating: "A", count: 33).utf8)))
        #expect(!ListFraming.cannotBeRequest(Array("\r\nLIS".utf8)))
        #expect(!ListFraming.cannotBeRequest(Array("GET /x HTTP/1.1\r\nHost".utf8)))
        // Found by the fuzzer: the decision depends only on the head's first bytes, never on how reads are cut.
        let notHTTP = "\u{5}POS\u{1}\0\0\0HTTP/1.1\r\nContent-Length: 4\r\n\r\nLISTLIST /b HTTP/1.1\r\n\r\n"
        #expect(try run([notHTTP]) == notHTTP)
        #expect(try run(notHTTP.map { String($0) }) == notHTTP)
        // An incomplete head that can still be a request is held, as before.
        #expect(try run(["GET /x HTTP/1.1\r\nHo"]) == "")
    }

    @Test func listWorksOverARealSocket() async throws {
        let fixture = try await Fixture.make()
        try await fixture.testLive { client in
            try await client.call(.post, "/v1/secret/data/team/a", token: fixture.rootToken, json: ["data": ["k": "v"]])
            let listed = try await client.call(HTTPRequest.Method("LIST")!, "/v1/secret/metadata/team", token: fixture.rootToken)
            #expect(listed.status == .ok && listed.data["keys"] == ["a"])
            let tenants = try await client.call(HTTPRequest.Method("LIST")!, "/v1/sys/tenants", token: fixture.rootToken)
            #expect(tenants.data["keys"] == ["root"])
        }
    }
}

import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: sys endpoints and hygiene")
struct SysAndHygieneTests {
    @Test func healthAndSealStatus() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let health = try await client.call(.get, "/v1/sys/health")
            #expect(health.status == .ok)
            #expect(health.headers[.contentType] == "application/json", "exactly application/json: hvac depends on it")
            #expect(health.body["initialized"] == true && health.body["sealed"] == false)
            let head = try await client.call(.head, "/v1/sys/health")
            #expect(head.status == .ok && head.raw.isEmpty)
            let seal = try await client.call(.get, "/v1/sys/seal-status")
            #expect(seal.body["sealed"] == false && seal.body["storage_type"] == "sqlite")
        }
    }

    @Test func everyResponseHasRequestIDAndSecurityHeaders() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            var seen: Set<String> = []
            for reply in [
                try await client.call(.get, "/v1/sys/health"),
                try await client.call(.get, "/v1/secret/data/x"),
                try await client.call(.get, "/v1/no/such/route"),
            ] {
                let id = try #require(reply.headers[.requestID])
                #expect(UUID(uuidString: id) != nil && id == id.lowercased(), "UUID-shaped: \(id)")
                #expect(seen.insert(id).inserted, "request ids are unique")
                #expect(reply.headers[.contentTypeOptions] == "nosniff")
                #expect(reply.headers[.frameOptions] == "DENY")
                #expect(reply.headers[.cacheControl] == "no-store")
                #expect(reply.headers[.strictTransportSecurity] == nil, "HSTS only when TLS is on")
                if reply.status != .ok { #expect(reply.body["request_id"]?.stringValue == id) }
            }
            let unknown = try await client.call(.get, "/v1/no/such/route")
            #expect(unknown.status == .notFound && unknown.code == "ROUTE_NOT_FOUND")
        }
    }

    @Test func missingOrBogusTokenIsForbiddenWithStableCode() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            for token in [nil, "cft_" + String(repeating: "A", count: 43), "not-a-token", fixture.rootToken + "x"] {
                let reply = try await client.call(.get, "/v1/secret/data/app", token: token)
                #expect(reply.status == .forbidden)
                #expect(reply.code == "UNAUTHENTICATED")
                #expect(reply.body["errors"] != nil)
            }
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.rootToken)"
            let bearer = try await client.client.execute(uri: "/v1/auth/token/lookup-self", method: .get, headers: headers, body: nil)
            #expect(bearer.status == .ok)
        }
    }

    @Test func oversizedAndMalformedBodiesAreRejectedAndStoreNothing() async throws {
        let fixture = try await Fixture.make(maxBodyBytes: 4096)
        try await fixture.test { client in
            let token = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app", token: token, json: ["data": ["v": "kept"]])
            let big = try await client.call(
                .post, "/v1/secret/data/app", token: token, json: ["data": ["v": .string(String(repeating: "x", count: 5000))]])
            #expect(big.status == .contentTooLarge && big.code == "PAYLOAD_TOO_LARGE")
            #expect(!big.raw.contains("xxxxxxxx"), "never echo the payload")
            let malformed = try await client.call(
                .post, "/v1/secret/data/app", token: token, rawBody: Array("{\"data\": {\"v\": \"secret-in-bad-json\"".utf8))
            #expect(malformed.status == .badRequest && malformed.code == "MALFORMED_JSON")
            #expect(!malformed.raw.contains("secret-in-bad-json"))
            let array = try await client.call(.post, "/v1/secret/data/app", token: token, rawBody: Array("[1,2]".utf8))
            #expect(array.status == .badRequest && array.code == "MALFORMED_JSON")
            let noData = try await client.call(.post, "/v1/secret/data/app", token: token, json: ["value": "x"])
            #expect(noData.status == .badRequest && noData.code == "INVALID_REQUEST")
            let badCAS = try await client.call(.post, "/v1/secret/data/app", token: token, json: ["data": ["v": "y"], "options": ["cas": "abc"]])
            #expect(badCAS.status == .badRequest)
            let read = try await client.call(.get, "/v1/secret/data/app", token: token)
            #expect(read.data["data"]?["v"] == "kept" && read.data["metadata"]?["version"] == 1)
        }
    }

    @Test func invalidPathsAreClientErrors() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let reply = try await client.call(.post, "/v1/secret/data/a/%2E%2E/b", token: fixture.rootToken, json: ["data": ["v": "x"]])
            #expect(reply.status == .badRequest && reply.code == "INVALID_REQUEST")
            let version = try await client.call(.get, "/v1/secret/data/a?version=-3", token: fixture.rootToken)
            #expect(version.status == .badRequest)
        }
    }
}

import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: leaked-key reports")
struct LeakReportHTTPTests {
    static func report(
        _ client: Fixture.Client, _ keys: [String], source: String = "github.com/acme/app/.env", token: String? = nil, namespace: String? = nil
    ) async throws -> Fixture.Client.Reply {
        try await client.call(
            .post, "/v1/keys/leaked", token: token, namespace: namespace,
            json: ["keys": .array(keys.map(JSONValue.string)), "source": .string(source)])
    }

    @Test func anyoneHoldingAKeyRevokesItAndLearnsNothingElse() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (key, id) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
            let (caller, _) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["keys:verify"]])
            let unknown = APIKeyFormat.generate(.live)
            let reply = try await Self.report(client, [key, unknown, "not-a-key"])
            #expect(reply.status == .ok && reply.data == ["received": 3], "no outcome per key for an anonymous reporter: \(reply.raw)")
            #expect(!reply.raw.contains(key) && !reply.raw.contains(id))
            let shown = try await client.call(.get, "/v1/keys/\(id)", token: root)
            #expect(shown.data["revoked"] == true && shown.data["revoked_reason"] == "leaked: github.com/acme/app/.env")
            #expect(shown.data["revoked_by"] == "anonymous:leak-report")
            #expect(try await APIKeyHTTPTests.verify(client, caller: caller, ["key": .string(key)]).body["code"] == "REVOKED")

            // Audited in the key's tenant, with the source, never the key.
            let entries = try await AuditHTTPTests.entries(client, root)
            let leaked = try #require(entries.first { $0["operation"] == "keys.leaked" })
            #expect(leaked["resource_id"]?.stringValue == id && leaked["details"]?["source"] == "github.com/acme/app/.env")
            #expect(leaked["actor"]?["display_name"] == "leak report")
            let reportEntry = try #require(entries.first { $0["operation"] == "keys.leaked.report" })
            #expect(reportEntry["details"]?["received"] == "3" && reportEntry["details"]?["revoked"] == "1")
            let everything = entries.map { String(decoding: $0.canonicalBytes(), as: UTF8.self) }.joined() + fixture.logs.all
            #expect(!everything.contains(key) && !everything.contains(unknown))
        }
    }

    @Test func aCallerSeesOutcomesForItsOwnTenantOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let acme = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme", "environment": "production"])
            let acmeAdmin = try #require(acme.body["auth"]?["client_token"]?.stringValue)
            let (mine, mineID) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
            let (already, alreadyID) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
            #expect(try await client.call(.post, "/v1/keys/\(alreadyID)/revoke", token: root, json: ["reason": "old"]).status == .ok)
            let (theirs, theirsID) = try await APIKeyHTTPTests.create(client, acmeAdmin, ["scopes": ["orders:read"]], namespace: "acme")

            let reply = try await Self.report(client, [mine, already, theirs, APIKeyFormat.generate(.test)], source: "ci/build.log", token: root)
            #expect(reply.status == .ok && reply.data["received"] == 4)
            #expect(
                reply.data["keys"]
                    == [
                        ["status": "revoked", "id": .string(mineID), "prefix": .string(APIKeyFormat.displayPrefix(mine))],
                        ["status": "already_revoked", "id": .string(alreadyID), "prefix": .string(APIKeyFormat.displayPrefix(already))],
                        ["status": "reported"], ["status": "reported"],
                    ])
            #expect(!reply.raw.contains(theirsID), "another tenant's key is not described")
            // It is revoked all the same, audited in acme's chain.
            let theirsNow = try await client.call(.get, "/v1/keys/\(theirsID)", token: acmeAdmin, namespace: "acme")
            #expect(theirsNow.data["revoked"] == true && theirsNow.data["revoked_reason"] == "leaked: ci/build.log")
            let acmeEntries = try await AuditHTTPTests.entries(client, acmeAdmin, "&operation=keys.leaked")
            #expect(acmeEntries.count == 1 && acmeEntries.first?["resource_id"]?.stringValue == theirsID)
            let already2 = try await client.call(.get, "/v1/keys/\(alreadyID)", token: root)
            #expect(already2.data["revoked_reason"] == "old", "an earlier revocation keeps its reason")
        }
    }

    @Test func badReportsAreRefusedBeforeAnythingIsRevoked() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (key, id) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
            let tooMany = Array(repeating: key, count: 101)
            #expect(try await Self.report(client, tooMany).code == "INVALID_REQUEST")
            #expect(try await Self.report(client, []).code == "INVALID_REQUEST")
            #expect(try await Self.report(client, [key], source: "line\nbreak").code == "INVALID_REQUEST")
            #expect(try await Self.report(client, [key], source: String(repeating: "x", count: 201)).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/keys/leaked", json: ["keys": .string(key)]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/keys/leaked", json: ["keys": [.string(key)], "extra": 1]).code == "INVALID_REQUEST")
            let badToken = try await Self.report(client, [key], token: "cft_wrong")
            #expect(badToken.code == "UNAUTHENTICATED")
            #expect(try await client.call(.get, "/v1/keys/\(id)", token: root).data["revoked"] == false, "nothing refused revoked anything")
            for reply in [try await Self.report(client, tooMany)] { #expect(!reply.raw.contains(key)) }
        }
    }
}

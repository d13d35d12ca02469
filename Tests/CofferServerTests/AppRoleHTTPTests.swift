import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: AppRole")
struct AppRoleHTTPTests {
    /// Enables approle and creates `ci` with `body`; returns its role ID.
    static func setUp(_ client: Fixture.Client, _ root: String, _ body: JSONValue) async throws -> String {
        #expect(try await client.call(.post, "/v1/sys/auth/approle", token: root, json: ["type": "approle"]).status == .noContent)
        let role = try await client.call(.post, "/v1/auth/approle/role/ci", token: root, json: body)
        #expect(role.status == .noContent, "\(role.raw)")
        return try #require(try await client.call(.get, "/v1/auth/approle/role/ci/role-id", token: root).data["role_id"]?.stringValue)
    }

    static func secretID(_ client: Fixture.Client, _ root: String, _ body: JSONValue = [:]) async throws -> (String, String) {
        let reply = try await client.call(.post, "/v1/auth/approle/role/ci/secret-id", token: root, json: body)
        return (
            try #require(reply.data["secret_id"]?.stringValue, "\(reply.raw)"), try #require(reply.data["secret_id_accessor"]?.stringValue)
        )
    }

    static func login(_ client: Fixture.Client, _ roleID: String, _ secretID: String) async throws -> Fixture.Client.Reply {
        try await client.call(.post, "/v1/auth/approle/login", json: ["role_id": .string(roleID), "secret_id": .string(secretID)])
    }

    @Test func secretIDsAreSpentExpiredAndBoundToTheirRoleAndNetworks() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let roleID = try await Self.setUp(
                client, root, ["token_policies": ["viewer"], "secret_id_num_uses": 2, "secret_id_ttl": "10m", "token_ttl": "20m"])
            let (secret, accessor) = try await Self.secretID(client, root, ["metadata": "{\"team\":\"payments\"}"])
            #expect(secret.hasPrefix("cfs_"))
            let first = try await Self.login(client, roleID, secret)
            #expect(first.status == .ok && first.body["auth"]?["policies"] == ["viewer"] && first.body["auth"]?["lease_duration"] == 1200)
            #expect(first.body["auth"]?["metadata"]?["team"] == "payments" && first.body["auth"]?["metadata"]?["role_name"] == "ci")
            let lookup = try await client.call(.post, "/v1/auth/approle/role/ci/secret-id/lookup", token: root, json: ["secret_id": .string(secret)])
            #expect(lookup.data["secret_id_num_uses"] == 1 && lookup.data["secret_id_accessor"] == .string(accessor) && !lookup.raw.contains(secret))
            #expect(try await Self.login(client, roleID, secret).status == .ok)
            // Used up: refused like any other bad secret ID.
            let spent = try await Self.login(client, roleID, secret)
            #expect(spent.status == .badRequest && spent.code == "LOGIN_FAILED")
            #expect(try await Self.login(client, roleID, "cfs_" + String(repeating: "A", count: 43)).code == "LOGIN_FAILED")
            #expect(try await Self.login(client, "not-a-role-id", secret).code == "LOGIN_FAILED")

            // Expired after secret_id_ttl.
            let (late, _) = try await Self.secretID(client, root)
            fixture.clock.advance(millis: 600_001)
            #expect(try await Self.login(client, roleID, late).code == "LOGIN_FAILED")

            // Bound to networks: the test client has no address in 10.0.0.0/8.
            let (bound, _) = try await Self.secretID(client, root, ["cidr_list": ["10.0.0.0/8"]])
            #expect(try await Self.login(client, roleID, bound).code == "LOGIN_FAILED")

            // Destroyed: gone.
            let (doomed, doomedAccessor) = try await Self.secretID(client, root)
            let destroyed = try await client.call(
                .post, "/v1/auth/approle/role/ci/secret-id-accessor/destroy", token: root, json: ["secret_id_accessor": .string(doomedAccessor)])
            #expect(destroyed.status == .noContent)
            #expect(try await Self.login(client, roleID, doomed).code == "LOGIN_FAILED")

            let entries = try await AuditHTTPTests.entries(client, root)
            let reasons = Set(entries.filter { $0["operation"] == "auth.login.failed" }.compactMap { $0["details"]?["reason"]?.stringValue })
            // A secret ID's last use deletes it, so the spent one is as unknown as a made-up one.
            #expect(reasons == ["unknown_secret_id", "unknown_role_id", "secret_id_expired", "client_not_allowed"])
            // Failures name the method, the mount and (once known) the role, for the alert rules.
            #expect(
                entries.contains { $0["operation"] == "auth.login.failed" && $0["details"]?["role"] == "ci" && $0["details"]?["method"] == "approle" }
            )
            let text = entries.map { String(decoding: $0.canonicalBytes(), as: UTF8.self) }.joined() + fixture.logs.all
            #expect(!text.contains(secret) && !text.contains(late) && !text.contains(roleID))
        }
    }

    @Test func aSecretIDOfOneRoleDoesNotOpenAnother() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            _ = try await Self.setUp(client, root, ["token_policies": "viewer"])
            try await client.call(.post, "/v1/auth/approle/role/deploy", token: root, json: ["token_policies": "admin"])
            let deployID = try #require(try await client.call(.get, "/v1/auth/approle/role/deploy/role-id", token: root).data["role_id"]?.stringValue)
            let (ciSecret, _) = try await Self.secretID(client, root)
            #expect(try await Self.login(client, deployID, ciSecret).code == "LOGIN_FAILED")
            // Lookups through the other role find nothing.
            let foreign = try await client.call(
                .post, "/v1/auth/approle/role/deploy/secret-id/lookup", token: root, json: ["secret_id": .string(ciSecret)])
            #expect(foreign.code == "NOT_FOUND")
            // A role ID names one role only.
            let taken = try await client.call(.post, "/v1/auth/approle/role/deploy/role-id", token: root, json: ["role_id": .string(deployID + "x")])
            #expect(taken.status == .noContent)
            let ciID = try #require(try await client.call(.get, "/v1/auth/approle/role/ci/role-id", token: root).data["role_id"]?.stringValue)
            #expect(
                try await client.call(.post, "/v1/auth/approle/role/deploy/role-id", token: root, json: ["role_id": .string(ciID)]).code
                    == "INVALID_REQUEST")
            // Unsupported choices are refused, not ignored.
            #expect(
                try await client.call(.post, "/v1/auth/approle/role/x", token: root, json: ["token_policies": "viewer", "bind_secret_id": false]).code
                    == "INVALID_REQUEST")
            #expect(
                try await client.call(.post, "/v1/auth/approle/role/x", token: root, json: ["token_policies": "viewer", "token_period": "1h"]).code
                    == "INVALID_REQUEST")
            // A secret ID narrows its role's networks, never widens them.
            try await client.call(
                .post, "/v1/auth/approle/role/netted", token: root,
                json: ["token_policies": "viewer", "token_bound_cidrs": ["10.0.0.0/8"], "secret_id_bound_cidrs": ["10.0.0.0/8"]])
            for (field, networks) in [("token_bound_cidrs", "192.168.0.0/16"), ("cidr_list", "0.0.0.0/0")] {
                let wider = try await client.call(.post, "/v1/auth/approle/role/netted/secret-id", token: root, json: [field: [.string(networks)]])
                #expect(wider.code == "INVALID_REQUEST", "\(field)")
            }
            #expect(
                try await client.call(.post, "/v1/auth/approle/role/netted/secret-id", token: root, json: ["token_bound_cidrs": ["10.1.0.0/16"]])
                    .status
                    == .ok)
            // Deleting a role deletes its secret IDs and sessions.
            let session = try #require(
                try await Self.login(client, ciID, try await Self.secretID(client, root).0).body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.delete, "/v1/auth/approle/role/ci", token: root).status == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: session).code == "UNAUTHENTICATED")
            #expect(try await Self.login(client, ciID, ciSecret).code == "LOGIN_FAILED")
        }
    }

    @Test func secretIDsCanBeResponseWrapped() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let roleID = try await Self.setUp(client, root, ["token_policies": "viewer"])
            let wrapped = try await client.call(.post, "/v1/auth/approle/role/ci/secret-id", token: root, headers: [("X-Vault-Wrap-TTL", "5m")])
            let wrapToken = try #require(wrapped.body["wrap_info"]?["token"]?.stringValue, "\(wrapped.raw)")
            #expect(wrapped.data == .null && !wrapped.raw.contains("cfs_"))
            let unwrapped = try await client.call(.post, "/v1/sys/wrapping/unwrap", token: wrapToken)
            let secret = try #require(unwrapped.data["secret_id"]?.stringValue)
            #expect(try await Self.login(client, roleID, secret).status == .ok)
        }
    }
}

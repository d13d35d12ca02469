import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: API keys")
struct APIKeyHTTPTests {
    /// Creates a key with `body` settings as `token` and returns (key, id).
    static func create(
        _ client: Fixture.Client, _ token: String, _ body: [String: JSONValue], namespace: String? = nil
    ) async throws -> (
        String, String
    ) {
        var body = body
        if body["name"] == nil { body["name"] = "test key" }
        let reply = try await client.call(.post, "/v1/keys", token: token, namespace: namespace, json: .object(body))
        guard let key = reply.data["key"]?.stringValue, let id = reply.data["id"]?.stringValue else {
            throw CofferError(.internalError, "create failed: \(reply.status) \(reply.raw)")
        }
        return (key, id)
    }

    static func verify(_ client: Fixture.Client, caller: String, _ body: [String: JSONValue]) async throws -> Fixture.Client.Reply {
        try await client.call(.post, "/v1/keys/verify", bearer: caller, json: .object(body))
    }

    @Test func verifyAnswersEveryCode() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (caller, _) = try await Self.create(client, root, ["scopes": ["keys:verify"]])
            func code(_ body: [String: JSONValue]) async throws -> String? {
                let reply = try await Self.verify(client, caller: caller, body)
                #expect(reply.status == .ok, "verdicts are answers, not errors: \(reply.raw)")
                return reply.body["code"]?.stringValue
            }
            let (plain, plainID) = try await Self.create(
                client, root, ["name": "customer", "scopes": ["orders:read"], "metadata": ["plan": "pro"]])
            let valid = try await Self.verify(client, caller: caller, ["key": .string(plain), "scopes": ["orders:read"]])
            #expect(valid.body["valid"] == true && valid.body["code"] == "VALID" && valid.body["key_id"]?.stringValue == plainID)
            #expect(valid.body["tenant"] == "root" && valid.body["environment"] == "development" && valid.body["name"] == "customer")
            #expect(valid.body["scopes"] == ["orders:read"] && valid.body["expires_at"] == .null && valid.body["meta"]?["plan"] == "pro")
            #expect(valid.body["request_id"]?.stringValue == valid.headers[.requestID])
            #expect(!valid.raw.contains(plain), "the key is never echoed")
            #expect(plain.hasPrefix("sk_test_"), "the root tenant is a development tenant")

            #expect(try await code(["key": .string(plain), "scopes": ["orders:write"]]) == "INSUFFICIENT_SCOPE")
            let mistyped = String(plain.dropLast()) + (plain.hasSuffix("a") ? "b" : "a")
            #expect(try await code(["key": .string(mistyped)]) == "MALFORMED")
            #expect(try await code(["key": "not-a-key"]) == "MALFORMED")
            #expect(try await code(["key": .string(APIKeyFormat.generate(.live))]) == "NOT_FOUND")

            // Another tenant's key: NOT_FOUND, with nothing about it.
            let tenant = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme", "environment": "production"])
            let acmeAdmin = try #require(tenant.body["auth"]?["client_token"]?.stringValue)
            let (acmeKey, _) = try await Self.create(client, acmeAdmin, ["name": "acme key"])
            #expect(acmeKey.hasPrefix("sk_live_"), "a production tenant's keys are live keys")
            let foreign = try await Self.verify(client, caller: caller, ["key": .string(acmeKey)])
            #expect(foreign.body["code"] == "NOT_FOUND" && foreign.body["key_id"] == .null && foreign.body["name"] == .null)

            let (fenced, _) = try await Self.create(client, root, ["allowed_ips": ["10.0.0.0/8", "2001:db8::/32"]])
            #expect(try await code(["key": .string(fenced), "ip": "10.9.8.7"]) == "VALID")
            #expect(try await code(["key": .string(fenced), "ip": "2001:db8::1"]) == "VALID")
            #expect(try await code(["key": .string(fenced), "ip": "11.0.0.1"]) == "FORBIDDEN_IP")
            #expect(try await code(["key": .string(fenced)]) == "FORBIDDEN_IP", "an allow-list needs the client's address")

            let (shortLived, _) = try await Self.create(client, root, ["ttl": "1h"])
            #expect(try await code(["key": .string(shortLived)]) == "VALID")
            fixture.clock.advance(millis: 3_600_000)
            #expect(try await code(["key": .string(shortLived)]) == "EXPIRED", "expired from its instant")

            let (revokedKey, revokedID) = try await Self.create(client, root, [:])
            let revoke = try await client.call(.post, "/v1/keys/\(revokedID)/revoke", token: root, json: ["reason": "leaked in CI logs"])
            #expect(revoke.status == .ok && revoke.data["revoked"] == true && revoke.data["revoked_reason"] == "leaked in CI logs")
            #expect(try await code(["key": .string(revokedKey)]) == "REVOKED")

            let (limited, _) = try await Self.create(client, root, ["rate_limit": ["limit": 2, "period": "1m"]])
            let first = try await Self.verify(client, caller: caller, ["key": .string(limited)])
            #expect(first.body["ratelimit"]?["limit"] == 2 && first.body["ratelimit"]?["remaining"] == 1)
            #expect(try await code(["key": .string(limited)]) == "VALID")
            let over = try await Self.verify(client, caller: caller, ["key": .string(limited)])
            #expect(over.body["code"] == "RATE_LIMITED" && over.body["valid"] == false && over.body["ratelimit"]?["remaining"] == 0)

            let (metered, _) = try await Self.create(client, root, ["quota": ["limit": 3, "period": "day"]])
            #expect(try await code(["key": .string(metered), "cost": 2]) == "VALID")
            #expect(try await code(["key": .string(metered), "cost": 2]) == "QUOTA_EXCEEDED", "cost counts against the quota")
            let last = try await Self.verify(client, caller: caller, ["key": .string(metered)])
            #expect(last.body["code"] == "VALID" && last.body["quota"]?["remaining"] == 0)

            #expect(!fixture.logs.all.contains(plain) && !fixture.logs.all.contains(caller), "keys never reach the logs")
        }
    }

    @Test func verifyNeedsTheScopeAndRejectsBadInput() async throws {
        let fixture = try await Fixture.make(maxBodyBytes: 4096)
        try await fixture.test { client in
            let root = fixture.rootToken
            let (target, _) = try await Self.create(client, root, [:])
            let (noScope, _) = try await Self.create(client, root, ["scopes": ["kv:read"]])
            let denied = try await Self.verify(client, caller: noScope, ["key": .string(target)])
            #expect(denied.status == .forbidden && denied.code == "PERMISSION_DENIED")
            #expect(!denied.raw.contains(target))
            let viewer = try await client.token(root, role: "viewer")
            #expect(try await client.call(.post, "/v1/keys/verify", token: viewer, json: ["key": .string(target)]).body["code"] == "VALID")
            let auditor = try await client.token(root, role: "auditor")
            #expect(try await client.call(.post, "/v1/keys/verify", token: auditor, json: ["key": .string(target)]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/keys/verify", json: ["key": .string(target)]).code == "UNAUTHENTICATED")

            let (caller, _) = try await Self.create(client, root, ["scopes": ["keys:verify"]])
            for body: JSONValue in [
                [:], ["key": 5], ["key": ""], ["key": .string(target), "ip": "10.0.0.0/8"], ["key": .string(target), "ip": "nope"],
                ["key": .string(target), "cost": -1], ["key": .string(target), "scopes": ["Bad Scope"]], ["key": .string(target), "scopes": "x"],
            ] {
                let reply = try await client.call(.post, "/v1/keys/verify", bearer: caller, json: body)
                #expect(reply.status == .badRequest && reply.code == "INVALID_REQUEST", "\(body)")
                #expect(reply.body["request_id"] != nil && !reply.raw.contains(target))
            }
            let malformed = try await client.call(.post, "/v1/keys/verify", bearer: caller, rawBody: Array("{\"key\": \"\(target)\"".utf8))
            #expect(malformed.status == .badRequest && malformed.code == "MALFORMED_JSON" && !malformed.raw.contains(target))
            let huge = try await client.call(.post, "/v1/keys/verify", bearer: caller, json: ["key": .string(String(repeating: "k", count: 8000))])
            #expect(huge.status == .contentTooLarge && huge.code == "PAYLOAD_TOO_LARGE")
            #expect(try await Self.verify(client, caller: caller, ["key": .string(target)]).body["code"] == "VALID", "nothing was broken")
        }
    }

    @Test func apiKeysAuthenticateCoffersOwnAPIByScope() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for path in ["payments/visa", "hr/salaries"] {
                let write = try await client.call(.post, "/v1/secret/data/\(path)", token: root, json: ["data": ["v": .string(path)]])
                #expect(write.status == .ok)
            }
            let (reader, readerID) = try await Self.create(client, root, ["scopes": ["kv:read:secret/payments/*"]])
            let read = try await client.call(.get, "/v1/secret/data/payments/visa", bearer: reader)
            #expect(read.status == .ok && read.data["data"]?["v"] == "payments/visa")
            #expect(try await client.call(.get, "/v1/secret/data/payments/visa", token: reader).status == .ok, "X-Vault-Token works too")
            #expect(try await client.call(.get, "/v1/secret/data/hr/salaries", bearer: reader).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/secret/data/payments//../hr/salaries", bearer: reader).status != .ok)
            #expect(try await client.call(.get, "/v1/secret/metadata/payments/?list=true", bearer: reader).status == .ok)
            #expect(try await client.call(.get, "/v1/secret/metadata/?list=true", bearer: reader).code == "PERMISSION_DENIED")
            let write = try await client.call(.post, "/v1/secret/data/payments/visa", bearer: reader, json: ["data": ["v": "x"]])
            #expect(write.code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/audit/entries", bearer: reader).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/keys", bearer: reader, json: ["name": "x"]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", bearer: reader).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/create", bearer: reader, json: [:]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/secret/data/payments/visa", bearer: reader, namespace: "acme").code == "TENANT_MISMATCH")

            // A key manager can hand out at most what it holds.
            let (manager, _) = try await Self.create(
                client, root, ["scopes": ["keys:manage", "kv:write:secret/payments/*", "kv:read:secret/payments/*"]])
            let (child, _) = try await Self.create(client, manager, ["scopes": ["kv:write:secret/payments/eu/*"]])
            let childWrite = try await client.call(.put, "/v1/secret/data/payments/eu/sepa", bearer: child, json: ["data": ["iban": "x"]])
            #expect(childWrite.status == .ok)
            let escalate = try await client.call(.post, "/v1/keys", bearer: manager, json: ["name": "x", "scopes": ["kv:read:secret/hr/*"]])
            #expect(escalate.code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/keys", bearer: manager, json: ["name": "x", "admin": true]).code == "PERMISSION_DENIED")

            // Revocation and expiry end authentication at once.
            _ = try await client.call(.post, "/v1/keys/\(readerID)/revoke", token: root, json: [:])
            #expect(try await client.call(.get, "/v1/secret/data/payments/visa", bearer: reader).code == "UNAUTHENTICATED")
            let (brief, _) = try await Self.create(client, root, ["scopes": ["kv:read"], "ttl": "10s"])
            #expect(try await client.call(.get, "/v1/secret/data/hr/salaries", bearer: brief).status == .ok)
            fixture.clock.advance(millis: 10_000)
            #expect(try await client.call(.get, "/v1/secret/data/hr/salaries", bearer: brief).code == "UNAUTHENTICATED")
            let forged = String(reader.dropLast()) + (reader.hasSuffix("a") ? "b" : "a")
            #expect(try await client.call(.get, "/v1/secret/data/payments/visa", bearer: forged).code == "UNAUTHENTICATED")

            // Admin keys reach admin scopes.
            let (admin, _) = try await Self.create(client, root, ["admin": true, "scopes": ["tenants:manage", "keys:manage"]])
            #expect(admin.hasPrefix("sk_admin_"))
            #expect(try await client.call(.get, "/v1/sys/tenants", bearer: admin).status == .ok)
        }
    }

    @Test func ownAPIRateLimitTiersAnswer429WithHeaders() async throws {
        let fixture = try await Fixture.make { configuration in
            configuration.rateLimits.anonymousPerMinute = 2
            configuration.rateLimits.authenticatedPerMinute = 3
            configuration.rateLimits.servicePerMinute = 5
        }
        try await fixture.test { client in
            let root = fixture.rootToken
            let viewer = try await client.token(root, role: "viewer")
            for remaining in [2, 1, 0] {
                let reply = try await client.call(.get, "/v1/secret/metadata/?list=true", token: viewer)
                #expect(reply.status != .tooManyRequests)
                #expect(reply.headers[.rateLimitLimit] == "3" && reply.headers[.rateLimitRemaining] == String(remaining))
            }
            let refused = try await client.call(.get, "/v1/secret/metadata/?list=true", token: viewer)
            #expect(refused.status == .tooManyRequests && refused.code == "RATE_LIMITED" && refused.body["request_id"] != nil)
            #expect(refused.headers[.retryAfter] == "20" && refused.headers[.rateLimitRemaining] == "0" && refused.headers[.rateLimitReset] == "60")
            fixture.clock.advance(millis: 20_000)
            #expect(try await client.call(.get, "/v1/secret/metadata/?list=true", token: viewer).status != .tooManyRequests, "paced, not blocked")

            // Admins are the service tier (5 per minute here).
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<6 { statuses.append(try await client.call(.get, "/v1/auth/token/lookup-self", token: root).status) }
            #expect(statuses == [.ok, .ok, .ok, .ok, .ok, .tooManyRequests])

            // Failed authentications spend the anonymous tier of the address, then get 429.
            let bogus = "cft_" + String(repeating: "z", count: 43)
            let anonymous = [
                try await client.call(.get, "/v1/secret/data/x", token: bogus).status, try await client.call(.get, "/v1/secret/data/x").status,
                try await client.call(.get, "/v1/secret/data/x", token: bogus).status,
            ]
            #expect(anonymous == [.forbidden, .forbidden, .tooManyRequests])
            #expect(try await client.call(.get, "/v1/sys/health").status == .ok, "health is never limited")

            // An API key's own limit replaces its tier; its quota applies to Coffer's API too.
            fixture.clock.advance(millis: 60_000)
            let (fast, _) = try await Self.create(client, root, ["scopes": ["kv:read"], "rate_limit": ["limit": 10, "period": 60]])
            var fastStatuses: [HTTPResponse.Status] = []
            for _ in 0..<10 { fastStatuses.append(try await client.call(.get, "/v1/secret/metadata/?list=true", bearer: fast).status) }
            #expect(!fastStatuses.contains(.tooManyRequests), "10 per minute, above the tier's 3")
            let (metered, _) = try await Self.create(client, root, ["scopes": ["kv:read"], "quota": ["limit": 1, "period": "day"]])
            _ = try await client.call(.get, "/v1/secret/metadata/?list=true", bearer: metered)
            let spent = try await client.call(.get, "/v1/secret/metadata/?list=true", bearer: metered)
            #expect(spent.status == .tooManyRequests && spent.code == "QUOTA_EXCEEDED" && spent.headers[.retryAfter] != nil)
        }
    }

    @Test func lifecycleIsAuditedAndShowsTheKeyOnlyOnce() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let created = try await client.call(
                .post, "/v1/keys", token: root,
                json: [
                    "name": "billing", "scopes": ["orders:read", "orders:write"], "ttl": "90d", "allowed_ips": ["192.0.2.0/24"],
                    "rate_limit": ["limit": 100, "period": "1m"], "quota": ["limit": 10000, "period": "month"], "metadata": ["owner": "payments"],
                ])
            #expect(created.status == .ok, "\(created.raw)")
            let key = try #require(created.data["key"]?.stringValue)
            let id = try #require(created.data["id"]?.stringValue)
            #expect(created.data["prefix"]?.stringValue == String(key.prefix(12)) + "…")
            #expect(created.data["quota"]?["period"] == 2_592_000 && created.data["rate_limit"]?["limit"] == 100)
            #expect(key.range(of: APIKeyFormat.pattern, options: .regularExpression) != nil)

            let listed = try await client.call(.get, "/v1/keys", token: root)
            let shown = try await client.call(.get, "/v1/keys/\(id)", token: root)
            #expect(!listed.raw.contains(key) && !shown.raw.contains(key), "never shown again")
            guard case .array(let keys) = listed.data["keys"] ?? .null else { throw CofferError(.internalError, "no keys listed") }
            #expect(keys.first?["id"]?.stringValue == id && shown.data["name"] == "billing")
            #expect(try await client.call(.get, "/v1/keys/key_doesnotexist", token: root).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/v1/keys/notakey", token: root).code == "NOT_FOUND")

            let updated = try await client.call(
                .patch, "/v1/keys/\(id)", token: root,
                json: ["name": "billing-v2", "allowed_ips": [], "expires_at": .null, "scopes": ["orders:read"]])
            #expect(updated.data["name"] == "billing-v2" && updated.data["allowed_ips"] == [] && updated.data["expires_at"] == .null)
            #expect(try await client.call(.patch, "/v1/keys/\(id)", token: root, json: ["colour": "red"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.patch, "/v1/keys/\(id)", token: root, json: ["admin": true]).code == "INVALID_REQUEST")

            let rotated = try await client.call(.post, "/v1/keys/\(id)/rotate", token: root, json: ["grace": "1h"])
            let newKey = try #require(rotated.data["key"]?.stringValue)
            let newID = try #require(rotated.data["id"]?.stringValue)
            #expect(rotated.data["rotated_from"]?.stringValue == id && rotated.data["name"] == "billing-v2" && newKey != key)
            #expect(try await client.call(.get, "/v1/keys/\(id)", token: root).data["rotated_to"]?.stringValue == newID)
            #expect(try await client.call(.post, "/v1/keys/\(id)/rotate", token: root, json: [:]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/keys/\(id)/rotate", token: root, json: ["grace": "90d"]).code == "INVALID_REQUEST")
            #expect(
                try await client.call(.post, "/v1/keys/\(newID)/revoke", token: root, json: ["reason": .string(String(repeating: "r", count: 300))])
                    .code == "INVALID_REQUEST")

            // Verifications are summarised; changes are recorded one by one, never with a key in clear.
            let (caller, _) = try await Self.create(client, root, ["scopes": ["keys:verify"]])
            _ = try await Self.verify(client, caller: caller, ["key": .string(newKey), "ip": "192.0.2.1"])
            _ = try await Self.verify(client, caller: caller, ["key": "sk_live_bad"])
            try await fixture.runtime.writeVerifySummaries()
            _ = try await client.token(root, role: "viewer")
            let entries = try await AuditHTTPTests.entries(client, root)
            let raw = String(decoding: JSONValue.array(entries).canonicalBytes(), as: UTF8.self)
            #expect(!raw.contains(key) && !raw.contains(newKey) && !raw.contains(caller))
            let operations = entries.compactMap { $0["operation"]?.stringValue }
            for operation in ["keys.create", "keys.list", "keys.read", "keys.update", "keys.rotate"] {
                #expect(operations.contains(operation), "\(operation) is audited")
            }
            #expect(!operations.contains("keys.verify"), "successful verifications are not one entry each")
            let rotation = try #require(entries.first { $0["operation"] == "keys.rotate" && $0["status"] == 200 })
            #expect(rotation["resource_id"]?.stringValue == id && rotation["details"]?["rotated_to"]?.stringValue == newID)
            let creation = try #require(entries.first { $0["operation"] == "keys.create" && $0["status"] == 200 })
            #expect(creation["resource_id"]?.stringValue == id && creation["details"]?["kind"] == "test")
            let minted = try #require(entries.first { $0["operation"] == "token.create" })
            #expect(minted["details"]?["created_role"] == "viewer" && minted["details"]?["created_accessor"] != nil, "details named before the write")
            let summary = try #require(entries.first { $0["operation"] == "keys.verify.summary" })
            #expect(summary["details"]?["count_valid"] == "1" && summary["details"]?["count_malformed"] == "1" && summary["details"]?["total"] == "2")
        }
    }

    @Test func anAllowListAlsoBindsKeysUsedOnCoffersOwnAPI() async throws {
        let fixture = try await Fixture.make()
        try await fixture.testLive { client in
            let root = fixture.rootToken
            _ = try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["v": "1"]])
            let (local, _) = try await Self.create(client, root, ["scopes": ["kv:read"], "allowed_ips": ["127.0.0.0/8", "::1/128"]])
            let (remote, _) = try await Self.create(client, root, ["scopes": ["kv:read"], "allowed_ips": ["10.0.0.0/8"]])
            #expect(try await client.call(.get, "/v1/secret/data/app", bearer: local).status == .ok, "the peer is on the loopback")
            let refused = try await client.call(.get, "/v1/secret/data/app", bearer: remote)
            #expect(refused.code == "UNAUTHENTICATED", "a key allowed only from 10/8 does not work from here")
            #expect(!refused.raw.contains("10.0.0.0"), "the refusal says nothing about the key")
        }
    }
}

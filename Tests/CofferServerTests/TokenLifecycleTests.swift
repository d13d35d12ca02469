import CofferCore
import Foundation
import HTTPTypes
import Testing

@testable import CofferServer

/// Vault's token lifecycle beyond create and renew: periodic, use-limited, orphan and network-bound
/// tokens, metadata, scopes, lookup and revoke by token, accessor or orphaning, and token roles.
@Suite struct TokenLifecycleTests {
    static func create(_ client: Fixture.Client, _ parent: String, _ body: JSONValue, path: String = "create") async throws -> (String, String) {
        let reply = try await client.call(.post, "/v1/auth/token/\(path)", token: parent, json: body)
        guard let token = reply.body["auth"]?["client_token"]?.stringValue, let accessor = reply.body["auth"]?["accessor"]?.stringValue else {
            throw CofferError(.internalError, "token create failed: \(reply.raw)")
        }
        return (token, accessor)
    }

    /// `period=30m` gives a token that lives 30 minutes unless renewed, and each renewal gives another
    /// period (never the increment asked), within explicit_max_ttl.
    @Test func periodicTokensExpireUnlessRenewed() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let reply = try await client.call(.post, "/v1/auth/token/create", token: root, json: ["policies": ["viewer"], "period": "30m"])
            #expect(reply.body["auth"]?["lease_duration"] == 1800 && reply.body["auth"]?["renewable"] == true, "\(reply.raw)")
            let token = try #require(reply.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).data["period"] == 1800)
            fixture.clock.advance(millis: 29 * 60_000)
            let renewed = try await client.call(.post, "/v1/auth/token/renew-self", token: token, json: ["increment": "10h"])
            #expect(renewed.body["auth"]?["lease_duration"] == 1800, "a period, not the increment: \(renewed.raw)")
            fixture.clock.advance(millis: 31 * 60_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED")

            let (capped, _) = try await Self.create(client, root, ["period": "30m", "explicit_max_ttl": "40m"])
            fixture.clock.advance(millis: 25 * 60_000)
            let last = try await client.call(.post, "/v1/auth/token/renew-self", token: capped, json: [:])
            #expect(last.body["auth"]?["lease_duration"]?.intValue == 15 * 60, "cut to explicit_max_ttl: \(last.raw)")
        }
    }

    /// `num_uses` spends one use per request; the last use revokes the token; a use-limited token creates none.
    @Test func useLimitedTokensAreSpent() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["k": "v"]])
            let (token, accessor) = try await Self.create(client, root, ["policies": ["modifier"], "num_uses": 2])
            #expect(try await client.call(.post, "/v1/auth/token/create", token: token, json: ["policies": ["viewer"]]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/secret/data/app", token: token).status == .ok)
            #expect(try await client.call(.get, "/v1/secret/data/app", token: token).code == "UNAUTHENTICATED", "both uses spent")
            let looked = try await client.call(.post, "/v1/auth/token/lookup-accessor", token: root, json: ["accessor": .string(accessor)])
            #expect(looked.data["num_uses"] == 0 && looked.data["revoked"] == true, "\(looked.raw)")
        }
    }

    /// Revoking a parent revokes its children unless orphaned; orphans need an admin (or a role);
    /// revoke-orphan keeps the children and makes them orphans.
    @Test func orphansSurviveTheirCreatorsRevocation() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (admin, _) = try await Self.create(client, root, ["policies": ["admin"]])
            let (orphan, _) = try await Self.create(client, admin, ["policies": ["viewer"]], path: "create-orphan")
            let (noParent, _) = try await Self.create(client, admin, ["policies": ["viewer"], "no_parent": true])
            let (child, _) = try await Self.create(client, admin, ["policies": ["viewer"]])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: orphan).data["orphan"] == true)
            let modifier = try await client.token(root, role: "modifier")
            let refused = try await client.call(.post, "/v1/auth/token/create-orphan", token: modifier, json: ["policies": ["viewer"]])
            #expect(refused.code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/revoke", token: root, json: ["token": .string(admin)]).status == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: admin).code == "UNAUTHENTICATED")
            #expect(
                try await client.call(.get, "/v1/auth/token/lookup-self", token: child).code == "UNAUTHENTICATED", "child revoked with its parent")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: orphan).status == .ok)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: noParent).status == .ok)

            // revoke-orphan: admins only; the children live on as orphans.
            let (parent, _) = try await Self.create(client, root, ["policies": ["modifier"]])
            let (kept, keptAccessor) = try await Self.create(client, parent, ["policies": ["viewer"]])
            #expect(
                try await client.call(.post, "/v1/auth/token/revoke-orphan", token: parent, json: ["token": .string(parent)]).code
                    == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/revoke-orphan", token: root, json: ["token": .string(parent)]).status == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: parent).code == "UNAUTHENTICATED")
            let survivor = try await client.call(.post, "/v1/auth/token/lookup-accessor", token: root, json: ["accessor": .string(keptAccessor)])
            #expect(survivor.data["orphan"] == true && survivor.data["revoked"] == false && survivor.data["id"] == "", "\(survivor.raw)")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: kept).status == .ok)
        }
    }

    /// lookup answers `id` as Vault does: the token for lookup-self and lookup, empty by accessor; meta
    /// is shown; lookup and revoke of another's token answer NOT_FOUND; unknown parameters are refused.
    @Test func lookupAndRevokeByTokenOrAccessor() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (token, accessor) = try await Self.create(client, root, ["policies": ["viewer"], "meta": ["team": "payments"], "ttl": "1h"])
            let me = try await client.call(.get, "/v1/auth/token/lookup-self", token: token)
            #expect(me.data["id"]?.stringValue == token && me.data["meta"]?["team"] == "payments" && me.data["accessor"]?.stringValue == accessor)
            let byToken = try await client.call(.post, "/v1/auth/token/lookup", token: root, json: ["token": .string(token)])
            #expect(byToken.data["id"]?.stringValue == token && byToken.data["path"] == "auth/token/create")
            let stranger = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/auth/token/lookup", token: stranger, json: ["token": .string(token)]).code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/auth/token/revoke", token: stranger, json: ["token": .string(token)]).code == "NOT_FOUND")
            #expect(
                try await client.call(.post, "/v1/auth/token/revoke-accessor", token: root, json: ["accessor": .string(accessor), "x": true]).code
                    == "INVALID_REQUEST")
            // Another tenant's admin cannot reach it either.
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "other"])
            let otherToken = try #require(other.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.post, "/v1/auth/token/revoke", token: otherToken, json: ["token": .string(token)]).code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/auth/token/lookup", token: otherToken, json: ["token": .string(token)]).code == "NOT_FOUND")
            #expect(
                try await client.call(.post, "/v1/auth/token/revoke-accessor", token: root, json: ["accessor": .string(accessor)]).status
                    == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED")
            #expect(try await client.call(.post, "/v1/auth/token/lookup", token: root, json: ["token": .string(token)]).code == "NOT_FOUND")
        }
    }

    /// A scoped token is held to its scopes; a child holds at most its parent's scopes.
    @Test func tokensCarryScopes() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app/db", token: root, json: ["data": ["k": "v"]])
            try await client.call(.post, "/v1/secret/data/other", token: root, json: ["data": ["k": "v"]])
            let (scoped, _) = try await Self.create(client, root, ["policies": ["modifier"], "coffer_scopes": ["kv:read:secret/app/*"]])
            #expect(try await client.call(.get, "/v1/secret/data/app/db", token: scoped).status == .ok)
            let outside = try await client.call(.get, "/v1/secret/data/other", token: scoped)
            #expect(outside.code == "PERMISSION_DENIED" && outside.raw.contains("scopes"), "\(outside.raw)")
            #expect(try await client.call(.post, "/v1/secret/data/app/db", token: scoped, json: ["data": ["k": "w"]]).code == "PERMISSION_DENIED")
            let wider = try await client.call(
                .post, "/v1/auth/token/create", token: scoped, json: ["policies": ["viewer"], "coffer_scopes": ["kv:read"]])
            #expect(wider.code == "PERMISSION_DENIED")
            let (inherited, _) = try await Self.create(client, scoped, ["policies": ["viewer"]])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: inherited).data["coffer_scopes"] == ["kv:read:secret/app/*"])
            #expect(try await client.call(.get, "/v1/secret/data/other", token: inherited).code == "PERMISSION_DENIED")
            let (narrower, _) = try await Self.create(client, scoped, ["policies": ["viewer"], "coffer_scopes": ["kv:read:secret/app/db"]])
            #expect(try await client.call(.get, "/v1/secret/data/app/db", token: narrower).status == .ok)
        }
    }

    /// Token roles force their settings on tokens created against them; only admins write them.
    @Test func tokenRolesShapeTheTokensMadeFromThem() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let role: JSONValue = [
                "allowed_policies": ["viewer"], "orphan": true, "renewable": true, "token_period": "1h", "token_explicit_max_ttl": "2h",
                "coffer_scopes": ["kv:read:secret/ci/*"], "path_suffix": "",
            ]
            #expect(try await client.call(.post, "/v1/auth/token/roles/ci", token: root, json: role).status == .noContent)
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/auth/token/roles/ci2", token: modifier, json: [:]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/roles/x", token: root, json: ["path_suffix": "a"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/auth/token/roles/x", token: root, json: ["bogus": 1]).code == "INVALID_REQUEST")
            let unknownPolicy = try await client.call(.post, "/v1/auth/token/roles/x", token: root, json: ["allowed_policies": ["default"]])
            #expect(unknownPolicy.code == "INVALID_REQUEST" && unknownPolicy.raw.contains("default"))
            let read = try await client.call(.get, "/v1/auth/token/roles/ci", token: root)
            #expect(read.data["token_period"] == 3600 && read.data["orphan"] == true && read.data["allowed_policies"] == ["viewer"], "\(read.raw)")
            #expect(try await client.call(.list, "/v1/auth/token/roles", token: root).data["keys"] == ["ci"])

            let made = try await client.call(.post, "/v1/auth/token/create/ci", token: modifier, json: [:])
            #expect(made.body["auth"]?["orphan"] == true && made.body["auth"]?["lease_duration"] == 3600, "\(made.raw)")
            let token = try #require(made.body["auth"]?["client_token"]?.stringValue)
            let me = try await client.call(.get, "/v1/auth/token/lookup-self", token: token)
            #expect(me.data["role"] == "ci" && me.data["path"] == "auth/token/create/ci" && me.data["policies"] == ["viewer"])
            #expect(me.data["coffer_scopes"] == ["kv:read:secret/ci/*"])
            #expect(try await client.call(.post, "/v1/auth/token/create/ci", token: root, json: ["policies": ["admin"]]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/create/nope", token: root, json: [:]).code == "NOT_FOUND")
            #expect(try await client.call(.delete, "/v1/auth/token/roles/ci", token: modifier).code == "PERMISSION_DENIED")
            #expect(try await client.call(.delete, "/v1/auth/token/roles/ci", token: root).status == .noContent)
            #expect(try await client.call(.delete, "/v1/auth/token/roles/ci", token: root).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).status == .ok, "tokens outlive their role")
        }
    }

    /// A token bound to networks works only from them (live server: the peer is 127.0.0.1).
    @Test func boundTokensWorkOnlyFromTheirNetworks() async throws {
        let fixture = try await Fixture.make()
        try await fixture.testLive { client in
            let root = fixture.rootToken
            let (inside, _) = try await Self.create(client, root, ["policies": ["viewer"], "token_bound_cidrs": ["127.0.0.0/8"]])
            let (outside, _) = try await Self.create(client, root, ["policies": ["viewer"], "token_bound_cidrs": ["10.0.0.0/8"]])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: inside).data["bound_cidrs"] == ["127.0.0.0/8"])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: outside).code == "UNAUTHENTICATED")
            // A child of a bound token cannot be used from wider networks.
            let wider = try await client.call(
                .post, "/v1/auth/token/create", token: inside, json: ["policies": ["viewer"], "token_bound_cidrs": ["0.0.0.0/0"]])
            #expect(wider.code == "PERMISSION_DENIED")
        }
    }
}

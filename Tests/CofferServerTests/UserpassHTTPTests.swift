import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: auth methods, userpass and sessions")
struct UserpassHTTPTests {
    static let password = "correct horse battery staple"

    /// Enables userpass at `userpass/` and creates `alice` (modifier).
    static func setUp(_ client: Fixture.Client, _ root: String, namespace: String? = nil) async throws {
        let enabled = try await client.call(.post, "/v1/sys/auth/userpass", token: root, namespace: namespace, json: ["type": "userpass"])
        #expect(enabled.status == .noContent, "\(enabled.raw)")
        let user = try await client.call(
            .post, "/v1/auth/userpass/users/alice", token: root, namespace: namespace,
            json: ["password": .string(password), "token_policies": ["modifier"]])
        #expect(user.status == .noContent, "\(user.raw)")
    }

    static func login(_ client: Fixture.Client, _ name: String, _ password: String, namespace: String? = nil) async throws -> Fixture.Client.Reply {
        try await client.call(.post, "/v1/auth/userpass/login/\(name)", namespace: namespace, json: ["password": .string(password)])
    }

    @Test func methodsAreEnabledListedAndDisabledByAdminsOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            #expect(try await client.call(.post, "/v1/sys/auth/ldap", token: root, json: ["type": "ldap"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/sys/auth/token", token: root, json: ["type": "userpass"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/sys/auth/Bad%20Path", token: root, json: ["type": "userpass"]).code == "INVALID_REQUEST")
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/sys/auth/userpass", token: modifier, json: ["type": "userpass"]).code == "PERMISSION_DENIED")
            try await Self.setUp(client, root)
            #expect(try await client.call(.post, "/v1/sys/auth/userpass", token: root, json: ["type": "approle"]).code == "INVALID_REQUEST")
            let listed = try await client.call(.get, "/v1/sys/auth", token: root)
            #expect(listed.data["userpass/"]?["type"] == "userpass" && listed.data["token/"]?["type"] == "token")
            #expect(listed.body["userpass/"]?["type"] == "userpass", "hvac reads the top level too")
            // A route the method type does not have.
            #expect(try await client.call(.get, "/v1/auth/userpass/role/x", token: root).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.post, "/v1/auth/nothing/login/alice", json: ["password": "x"]).code == "ROUTE_NOT_FOUND")

            // Disabling revokes every session the method made.
            let session = try #require(try await Self.login(client, "alice", Self.password).body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: session).status == .ok)
            #expect(try await client.call(.delete, "/v1/sys/auth/userpass", token: root).status == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: session).code == "UNAUTHENTICATED")
            #expect(
                try await client.call(.post, "/v1/auth/userpass/login/alice", json: ["password": .string(Self.password)]).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.delete, "/v1/sys/auth/userpass", token: root).status == .noContent, "disabling a free path succeeds")
        }
    }

    @Test func usersAreValidatedAndLoginsYieldTenantBoundSessions() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.setUp(client, root)
            let unknown = try await client.call(
                .post, "/v1/auth/userpass/users/bob", token: root, json: ["password": .string(Self.password), "token_policies": ["root"]])
            #expect(unknown.status == .badRequest && unknown.code == "INVALID_REQUEST" && unknown.raw.contains("'root'"))
            let two = try await client.call(
                .post, "/v1/auth/userpass/users/bob", token: root, json: ["password": .string(Self.password), "policies": "viewer,admin"])
            #expect(two.code == "INVALID_REQUEST")
            let short = try await client.call(.post, "/v1/auth/userpass/users/bob", token: root, json: ["password": "short", "policies": "viewer"])
            #expect(short.code == "INVALID_REQUEST" && !short.raw.contains("short\""))
            #expect(
                try await client.call(.post, "/v1/auth/userpass/users/bob", token: root, json: ["password": .string(Self.password)]).code
                    == "INVALID_REQUEST", "a user needs a role")
            let dotted = try await client.call(
                .post, "/v1/auth/userpass/users/.hidden", token: root, json: ["password": .string(Self.password), "policies": "viewer"])
            #expect(dotted.status == .badRequest && dotted.code == "INVALID_REQUEST", "a username never starts with '.'")

            let login = try await Self.login(client, "alice", Self.password)
            #expect(login.status == .ok)
            let auth = try #require(login.body["auth"])
            let token = try #require(auth["client_token"]?.stringValue)
            #expect(auth["policies"] == ["modifier"] && auth["lease_duration"] == 3600 && auth["renewable"] == true)
            #expect(auth["metadata"]?["username"] == "alice")
            let me = try await client.call(.get, "/v1/auth/token/lookup-self", token: token)
            #expect(me.data["coffer_role"] == "modifier" && me.data["path"] == "auth/userpass/login/alice")
            #expect(try await client.call(.post, "/v1/secret/data/app", token: token, json: ["data": ["k": "v"]]).status == .ok)
            // The session is bound to its tenant.
            try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"])
            #expect(try await client.call(.get, "/v1/secret/data/app", token: token, namespace: "acme").code == "TENANT_MISMATCH")
            // Another tenant has no such method, and its users are its own.
            #expect(try await Self.login(client, "alice", Self.password, namespace: "acme").code == "ROUTE_NOT_FOUND")

            // Reading a user never shows the password or its hash.
            let read = try await client.call(.get, "/v1/auth/userpass/users/alice", token: root)
            #expect(read.data["token_policies"] == ["modifier"] && !read.raw.contains("argon2") && !read.raw.contains("password_hash"))
            #expect(try await client.call(.get, "/v1/auth/userpass/users?list=true", token: root).data["keys"] == ["alice"])
        }
    }

    @Test func wrongPasswordsAndUnknownUsersFailAlikeAndLockOut() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.setUp(client, root)
            try await client.call(.post, "/v1/auth/userpass/config", token: root, json: ["lockout_threshold": 3, "lockout_duration": "10m"])
            let session = try #require(try await Self.login(client, "alice", Self.password).body["auth"]?["client_token"]?.stringValue)
            let wrong = try await Self.login(client, "alice", "not the password at all")
            let ghost = try await Self.login(client, "nobody", "not the password at all")
            #expect(wrong.status == .badRequest && wrong.code == "LOGIN_FAILED")
            #expect(ghost.status == .badRequest && ghost.code == "LOGIN_FAILED" && ghost.body["errors"] == wrong.body["errors"])
            #expect(try await Self.login(client, "alice", "still not it").code == "LOGIN_FAILED")
            // The third failure locked alice and ended her sessions; even the right password is refused now.
            #expect(try await Self.login(client, "alice", "third wrong one").code == "LOGIN_FAILED")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: session).code == "UNAUTHENTICATED")
            let locked = try await Self.login(client, "alice", Self.password)
            #expect(locked.status == .tooManyRequests && locked.code == "LOGIN_LOCKED" && locked.headers[.retryAfter] == "600")
            // The lockout ends with its duration, and an admin's password reset lifts it at once.
            fixture.clock.advance(millis: 600_000)
            #expect(try await Self.login(client, "alice", Self.password).status == .ok)

            let entries = try await AuditHTTPTests.entries(client, root)
            let failed = entries.filter { $0["operation"] == "auth.login.failed" }
            #expect(failed.count >= 4)
            #expect(
                failed.contains { $0["details"]?["reason"] == "unknown_user" } && failed.contains { $0["details"]?["reason"] == "wrong_password" })
            #expect(failed.contains { $0["details"]?["user_locked"] == "true" })
            #expect(entries.contains { $0["operation"] == "auth.login" && $0["status"] == 200 })
            let everything = entries.map { String(decoding: $0.canonicalBytes(), as: UTF8.self) }.joined() + fixture.logs.all
            #expect(!everything.contains(Self.password) && !everything.contains("not the password at all"))
        }
    }

    @Test func passwordChangesDeletionsAndAdminsEndSessions() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.setUp(client, root)
            let first = try #require(try await Self.login(client, "alice", Self.password).body["auth"]?["client_token"]?.stringValue)
            // Renewal works while the user is unchanged, up to the max TTL.
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: first).body["auth"]?["lease_duration"] == 3600)
            let reset = try await client.call(
                .post, "/v1/auth/userpass/users/alice/password", token: root, json: ["password": "a brand new passphrase"])
            #expect(reset.status == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: first).code == "UNAUTHENTICATED")
            #expect(try await Self.login(client, "alice", Self.password).code == "LOGIN_FAILED")

            let second = try #require(try await Self.login(client, "alice", "a brand new passphrase").body["auth"]?["client_token"]?.stringValue)
            let third = try #require(try await Self.login(client, "alice", "a brand new passphrase").body["auth"]?["client_token"]?.stringValue)
            let revoked = try await client.call(.post, "/v1/auth/userpass/sessions/revoke", token: root, json: ["username": "alice"])
            #expect(revoked.data["revoked"] == 2)
            for token in [second, third] {
                #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED")
            }

            // A deleted user's session can no longer renew (and is revoked with the deletion).
            let fourth = try #require(try await Self.login(client, "alice", "a brand new passphrase").body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.delete, "/v1/auth/userpass/users/alice", token: root).status == .noContent)
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: fourth).code == "UNAUTHENTICATED")
            #expect(try await client.call(.delete, "/v1/auth/userpass/users/alice", token: root).code == "NOT_FOUND")
        }
    }

    @Test func sessionsRenewOnlyUpToTheirMaxTTLAndWhileTheirRoleHolds() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.setUp(client, root)
            try await client.call(.post, "/v1/auth/userpass/users/alice", token: root, json: ["token_ttl": "1h", "token_max_ttl": "2h"])
            let token = try #require(try await Self.login(client, "alice", Self.password).body["auth"]?["client_token"]?.stringValue)
            fixture.clock.advance(millis: 3_000_000)
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: token).body["auth"]?["lease_duration"] == 3600)
            fixture.clock.advance(millis: 3_000_000)
            // 100 minutes in, a renewal reaches only the 2 h cap.
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: token).body["auth"]?["lease_duration"] == 1200)
            fixture.clock.advance(millis: 1_300_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED")

            // A role change revokes sessions; a session whose user changed role cannot renew.
            let next = try #require(try await Self.login(client, "alice", Self.password).body["auth"]?["client_token"]?.stringValue)
            try await client.call(.post, "/v1/auth/userpass/users/alice/policies", token: root, json: ["token_policies": "viewer"])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: next).code == "UNAUTHENTICATED")
            #expect(try await Self.login(client, "alice", Self.password).body["auth"]?["policies"] == ["viewer"])
        }
    }

    @Test func anotherTenantsAdminCannotConfigureMethods() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let acme = try #require(
                try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"]).body["auth"]?["client_token"]?.stringValue)
            try await Self.setUp(client, root)
            // acme's admin names the root tenant: refused before anything is read.
            let cross = try await client.call(
                .post, "/v1/auth/userpass/users/mallory", token: acme, namespace: "root",
                json: ["password": .string(Self.password), "token_policies": "admin"])
            #expect(cross.code == "TENANT_MISMATCH")
            // In its own tenant, acme has no userpass method at that path.
            #expect(try await client.call(.get, "/v1/auth/userpass/users/alice", token: acme).code == "ROUTE_NOT_FOUND")
            try await Self.setUp(client, acme, namespace: "acme")
            // Same username, different tenants, different users: the root tenant's password does not open acme's.
            try await client.call(
                .post, "/v1/auth/userpass/users/alice", token: acme, namespace: "acme", json: ["password": "acme's own passphrase"])
            let acmeLogin = try await Self.login(client, "alice", "acme's own passphrase", namespace: "acme")
            #expect(acmeLogin.body["auth"]?["coffer_tenant"] == "acme")
            #expect(try await Self.login(client, "alice", Self.password, namespace: "acme").code == "LOGIN_FAILED")
            let token = try #require(acmeLogin.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token, namespace: "root").code == "TENANT_MISMATCH")
        }
    }
}

import CofferCore
import CofferServer
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@Suite("HTTP: tenants, tokens and roles")
struct AccessControlTests {
    @Test func tenantsAreIsolated() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let created = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme", "environment": "production"])
            #expect(created.data["environment"] == "production")
            let acme = try #require(created.body["auth"]?["client_token"]?.stringValue)
            let duplicate = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"])
            #expect(duplicate.status == .conflict && duplicate.code == "TENANT_EXISTS")
            #expect(try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "Bad Name"]).status == .badRequest)

            try await client.call(.post, "/v1/secret/data/shared/path", token: root, json: ["data": ["owner": "root"]])
            try await client.call(.post, "/v1/secret/data/shared/path", token: acme, namespace: "acme/", json: ["data": ["owner": "acme"]])
            #expect(try await client.call(.get, "/v1/secret/data/shared/path", token: acme).data["data"]?["owner"] == "acme")
            #expect(try await client.call(.get, "/v1/secret/data/shared/path", token: root, namespace: "root").data["data"]?["owner"] == "root")

            // Wrong tenant: refused whatever the role, and without revealing whether the tenant exists.
            let cross = try await client.call(.get, "/v1/secret/data/shared/path", token: root, namespace: "acme")
            #expect(cross.status == .forbidden && cross.code == "TENANT_MISMATCH" && !cross.raw.contains("acme\"") && !cross.raw.contains("owner"))
            let ghost = try await client.call(.get, "/v1/secret/data/shared/path", token: acme, namespace: "does-not-exist")
            #expect(ghost.status == .forbidden && ghost.code == "TENANT_MISMATCH")
            let alias = try await client.client.execute(
                uri: "/v1/secret/data/shared/path", method: .get, headers: [.vaultToken: acme, .cofferTenant: "root"], body: nil)
            #expect(alias.status == .forbidden)

            // Only admins of the system tenant manage tenants.
            #expect(try await client.call(.post, "/v1/sys/tenants", token: acme, json: ["name": "evil"]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/sys/tenants", token: root).data["keys"] == ["acme", "root"])
            // Listing never crosses tenants.
            try await client.call(.post, "/v1/secret/data/only-root", token: root, json: ["data": ["k": "v"]])
            #expect(try await client.call(.get, "/v1/secret/metadata?list=true", token: acme).data["keys"] == ["shared/"])
        }
    }

    @Test func rolesLimitWhatTokensDo() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["k": "v"]])
            let viewer = try await client.token(root, role: "viewer")
            let modifier = try await client.token(root, role: "modifier")
            let auditor = try await client.token(root, role: "auditor")

            #expect(try await client.call(.get, "/v1/secret/data/app", token: viewer).status == .ok)
            let viewerWrite = try await client.call(.post, "/v1/secret/data/app", token: viewer, json: ["data": ["k": "x"]])
            #expect(viewerWrite.status == .forbidden && viewerWrite.code == "PERMISSION_DENIED")
            #expect(try await client.call(.delete, "/v1/secret/data/app", token: viewer).status == .forbidden)
            #expect(try await client.call(.post, "/v1/secret/data/app", token: modifier, json: ["data": ["k": "m"]]).status == .ok)
            #expect(try await client.call(.get, "/v1/secret/data/app", token: auditor).code == "PERMISSION_DENIED", "auditors read audit logs only")
            #expect(try await client.call(.get, "/v1/secret/metadata?list=true", token: auditor).status == .forbidden)
            #expect(try await client.call(.post, "/v1/sys/keyring/rotate", token: modifier).status == .forbidden)

            let escalate = try await client.call(.post, "/v1/auth/token/create", token: modifier, json: ["role": "admin"])
            #expect(escalate.status == .forbidden && escalate.code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/auth/token/create", token: viewer, json: ["role": "modifier"]).status == .forbidden)
            #expect(try await client.call(.post, "/v1/auth/token/create", token: auditor, json: ["role": "auditor"]).status == .forbidden)
            #expect(try await client.call(.post, "/v1/auth/token/create", token: root, json: ["role": "wizard"]).status == .badRequest)
            let lookup = try await client.call(.get, "/v1/auth/token/lookup-self", token: modifier)
            #expect(lookup.data["coffer_role"] == "modifier" && lookup.data["policies"] == ["modifier"])
            #expect(lookup.data["id"]?.stringValue == modifier, "lookup-self answers the caller's own token as data.id, as Vault does")
        }
    }

    @Test func expiredAndRevokedTokensStopAtOnce() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let shortLived = try await client.token(root, role: "viewer", ttl: "60s")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: shortLived).data["ttl"] == 60)
            fixture.clock.advance(millis: 59_999)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: shortLived).status == .ok)
            fixture.clock.advance(millis: 1)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: shortLived).code == "UNAUTHENTICATED")

            let revokable = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/auth/token/revoke-self", token: revokable).status == .noContent)
            #expect(try await client.call(.get, "/v1/secret/metadata?list=true", token: revokable).code == "UNAUTHENTICATED")

            let created = try await client.call(.post, "/v1/auth/token/create", token: root, json: ["role": "viewer"])
            let token = try #require(created.body["auth"]?["client_token"]?.stringValue)
            let accessor = try #require(created.body["auth"]?["accessor"]?.stringValue)
            let other = try await client.token(root, role: "viewer")
            #expect(
                try await client.call(.post, "/v1/auth/token/revoke-accessor", token: other, json: ["accessor": .string(accessor)]).code
                    == "NOT_FOUND", "out of reach answers like unknown")
            #expect(
                try await client.call(.post, "/v1/auth/token/lookup-accessor", token: root, json: ["accessor": .string(accessor)]).data["revoked"]
                    == false)
            #expect(
                try await client.call(.post, "/v1/auth/token/revoke-accessor", token: root, json: ["accessor": .string(accessor)]).status
                    == .noContent)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).status == .forbidden)

            // A child never outlives its parent.
            let parent = try await client.token(root, role: "modifier", ttl: "10s")
            let child = try await client.token(parent, role: "viewer", ttl: "1h")
            fixture.clock.advance(millis: 10_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: child).status == .forbidden)
        }
    }

    /// Every token-creation parameter is honoured exactly or refused naming it; nothing is dropped.
    @Test func tokenCreationParametersAreHonouredOrRefused() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let capped = try await client.call(
                .post, "/v1/auth/token/create", token: root, json: ["policies": ["viewer"], "ttl": "30m", "explicit_max_ttl": "5m"])
            #expect(capped.body["auth"]?["lease_duration"] == 300, "\(capped.raw)")
            let token = try #require(capped.body["auth"]?["client_token"]?.stringValue)
            fixture.clock.advance(millis: 301_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED", "expired at 5 minutes")
            // hvac's defaults pass; what Coffer cannot do is refused, naming the parameter, and nothing is created.
            let hvacDefaults: JSONValue = [
                "policies": ["viewer"], "no_parent": false, "no_default_policy": false, "renewable": true, "display_name": "token", "num_uses": 0,
            ]
            let created = try await client.call(.post, "/v1/auth/token/create", token: root, json: hvacDefaults)
            #expect(created.status == .ok && created.body["auth"]?["renewable"] == false, "no ttl: nothing to renew")
            let refused: [(JSONValue, String)] = [
                (["type": "batch"], "type"), (["num_uses": -1], "num_uses"), (["meta": ["team": 1]], "meta"), (["id": "my-token"], "id"),
                (["role_name": "ci"], "role_name"), (["ttl_max": "1h"], "ttl_max"), (["policies": ["default"]], "policies"),
                (["policies": ["viewer", "admin"]], "policies"), (["entity_alias": "x"], "entity_alias"), (["lease": "1h"], "lease"),
                (["token_bound_cidrs": ["not-a-net"]], "token_bound_cidrs"), (["coffer_scopes": ["kv"]], "coffer_scopes"),
                (["num_uses": 4_294_967_296], "num_uses"), (["period": "200y"], "period"),
            ]
            for (body, name) in refused {
                let reply = try await client.call(.post, "/v1/auth/token/create", token: root, json: body)
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains(name), "\(body): \(reply.raw)")
            }
            let audit = try await client.call(.get, "/v1/audit/entries?operation=token.create", token: root)
            guard case .array(let entries) = audit.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            #expect(entries.filter { $0["status"] == 200 }.count == 2, "only the two accepted requests created tokens")
            // A wrap request is answered with wrap_info only, never in the clear.
            let wrapped = try await client.call(
                .post, "/v1/auth/token/create", token: root, json: ["policies": ["viewer"]], headers: [("X-Vault-Wrap-TTL", "60s")])
            #expect(wrapped.body["wrap_info"]?["token"] != nil && !wrapped.raw.contains("cft_") && wrapped.body["auth"] == .null)
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["k": "wrapped-secret"]])
            let read = try await client.call(.get, "/v1/secret/data/app", token: root, headers: [("X-Vault-Wrap-TTL", "60s")])
            #expect(read.body["wrap_info"]?["creation_path"] == "secret/data/app" && !read.raw.contains("wrapped-secret"))
        }
    }

    /// Renewal: renewable tokens extend to their TTL (or the increment asked), never past
    /// explicit_max_ttl or their parent's expiry; renewable false stays as it is.
    @Test func tokensRenewWithinTheirCaps() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let parent = try await client.token(root, role: "modifier", ttl: "2h")
            let created = try await client.call(
                .post, "/v1/auth/token/create", token: parent, json: ["policies": ["viewer"], "ttl": "10m", "explicit_max_ttl": "1h"])
            #expect(created.body["auth"]?["renewable"] == true)
            let token = try #require(created.body["auth"]?["client_token"]?.stringValue)
            let accessor = try #require(created.body["auth"]?["accessor"]?.stringValue)
            fixture.clock.advance(millis: 9 * 60_000)
            let renewed = try await client.call(.post, "/v1/auth/token/renew-self", token: token, json: [:])
            #expect(renewed.body["auth"]?["lease_duration"] == 600, "\(renewed.raw)")
            fixture.clock.advance(millis: 9 * 60_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).status == .ok, "alive past its first 10 minutes")
            // An increment past explicit_max_ttl is cut to it (1 h after creation = 42 min from now).
            let capped = try await client.call(.post, "/v1/auth/token/renew-self", token: token, json: ["increment": "5h"])
            #expect(capped.body["auth"]?["lease_duration"]?.intValue == 42 * 60, "\(capped.raw)")
            // The parent renews it by accessor or by token; a stranger cannot.
            let byAccessor = try await client.call(.post, "/v1/auth/token/renew-accessor", token: parent, json: ["accessor": .string(accessor)])
            #expect(byAccessor.status == .ok && byAccessor.body["auth"]?["client_token"] == nil)
            let other = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/auth/token/renew", token: other, json: ["token": .string(token)]).code == "NOT_FOUND")
            #expect(
                try await client.call(.post, "/v1/auth/token/renew", token: parent, json: ["token": .string(token), "x": 1]).code == "INVALID_REQUEST"
            )
            fixture.clock.advance(millis: 43 * 60_000)
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: token).code == "UNAUTHENTICATED", "the hard cap holds")

            // Not renewable: refused, expiry unchanged.
            let fixed = try await client.call(.post, "/v1/auth/token/create", token: root, json: ["ttl": "10m", "renewable": false])
            let fixedToken = try #require(fixed.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.post, "/v1/auth/token/renew-self", token: fixedToken, json: [:]).code == "INVALID_REQUEST")
            // A child is never renewed past its parent.
            let child = try await client.call(.post, "/v1/auth/token/create", token: parent, json: ["policies": ["viewer"], "ttl": "30m"])
            let childToken = try #require(child.body["auth"]?["client_token"]?.stringValue)
            let lookupParent = try await client.call(.get, "/v1/auth/token/lookup-self", token: parent)
            let parentLeft = try #require(lookupParent.data["ttl"]?.intValue)
            let long = try await client.call(.post, "/v1/auth/token/renew-self", token: childToken, json: ["increment": "10h"])
            #expect(long.body["auth"]?["lease_duration"]?.intValue == parentLeft, "\(long.raw) vs \(parentLeft)")
        }
    }

    @Test func keyRotationReencryptionAndRollback() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for index in 0..<5 { try await client.call(.post, "/v1/secret/data/k\(index)", token: root, json: ["data": ["i": .int(index)]]) }
            #expect(try await client.call(.post, "/v1/sys/keyring/rotate", token: root).data["active_version"] == 2)
            try await client.call(.post, "/v1/secret/data/k0", token: root, json: ["data": ["i": "new"]])
            let keyVersions = try await fixture.storage.database.query("SELECT key_version FROM kv_versions ORDER BY path, version", [])
            #expect(try keyVersions.map { try $0.int("key_version") } == [1, 2, 1, 1, 1, 1], "new writes use the active key; old rows untouched")
            #expect(try await client.call(.get, "/v1/secret/data/k3", token: root).data["data"]?["i"] == 3, "old versions still decrypt")

            let partial = try await client.call(.post, "/v1/sys/keyring/reencrypt", token: root, json: ["batch_size": 2, "max_batches": 1])
            #expect(partial.data["reencrypted"] == 2 && partial.data["remaining"] == 3)
            let rest = try await client.call(.post, "/v1/sys/keyring/reencrypt", token: root, json: ["batch_size": 2])
            #expect(rest.data["reencrypted"] == 3 && rest.data["remaining"] == 0)
            let status = try await client.call(.get, "/v1/sys/keyring", token: root)
            #expect(status.data["versions"]?.arrayCount == 2)
            for index in 1..<5 { #expect(try await client.call(.get, "/v1/secret/data/k\(index)", token: root).data["data"]?["i"] == .int(index)) }

            #expect(try await client.call(.post, "/v1/sys/keyring/rollback", token: root, json: ["to_version": 1]).status == .badRequest)
            let unknown = try await client.call(.post, "/v1/sys/keyring/rollback", token: root, json: ["to_version": 9, "reason": "x"])
            #expect(unknown.status == .badRequest && unknown.code == "INVALID_REQUEST")
            let rolled = try await client.call(
                .post, "/v1/sys/keyring/rollback", token: root, json: ["to_version": 1, "reason": "suspected compromise of v2"])
            #expect(rolled.data["active_version"] == 1)
            try await client.call(.post, "/v1/secret/data/after", token: root, json: ["data": ["x": "y"]])
            let after = try await fixture.storage.database.query("SELECT key_version FROM kv_versions WHERE path = 'after'", [])
            #expect(try after.first?.int("key_version") == 1)
        }
    }

    @Test func wrongRootKeyIsRefusedOnReopen() async throws {
        let fixture = try await Fixture.make()
        let error = await #expect(throws: CofferError.self) {
            _ = try await Keyring.open(storage: fixture.storage, source: .key(SecureRandom.bytes(32), origin: "COFFER_ROOT_KEY"))
        }
        #expect(error?.code == .rootKeyInvalid)
        #expect(error?.message.contains("COFFER_ROOT_KEY") == true)
        await fixture.runtime.shutdown()
    }

    @Test func logsNeverContainSecretsOrTokens() async throws {
        let fixture = try await Fixture.make()
        let canary = "canary-\(SecureRandom.bytes(8).map { String($0) }.joined())"
        let issued = Mutex<[String]>([])
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/logs", token: root, json: ["data": ["password": .string(canary)]])
            _ = try await client.call(.get, "/v1/secret/data/logs", token: root)
            _ = try await client.call(.post, "/v1/secret/data/logs", token: root, rawBody: Array("{\"data\":{\"p\":\"\(canary)\"".utf8))
            let child = try await client.token(root, role: "viewer")
            issued.withLock { $0.append(child) }
            _ = try await client.call(.get, "/v1/secret/data/logs", token: child + "x")
            _ = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "logged"])
        }
        let logs = fixture.logs.all
        #expect(logs.contains("/v1/secret/data/logs"), "requests are logged")
        #expect(!logs.contains(canary))
        #expect(!logs.contains(fixture.rootToken))
        for token in issued.withLock({ $0 }) { #expect(!logs.contains(token)) }
        #expect(!logs.contains("cft_"))
    }
}

extension JSONValue {
    var arrayCount: Int? {
        if case .array(let items) = self { return items.count }
        return nil
    }
}

@Suite("Root-key rotation")
struct RootRotationTests {
    @Test func rotatingTheRootKeyRewrapsDataKeysAndRetiresTheOldKey() async throws {
        let fixture = try await Fixture.make()
        let tokenBefore = fixture.rootToken
        try await fixture.test { client in
            try await client.call(.post, "/v1/secret/data/before", token: tokenBefore, json: ["data": ["v": "old-root"]])
            try await client.call(.post, "/v1/sys/tenants", token: tokenBefore, json: ["name": "second"])
            try await client.call(.post, "/v1/sys/keyring/rotate", token: tokenBefore)

            let newBytes = SecureRandom.bytes(32)
            #expect(try await fixture.runtime.keyring.rotateRoot(to: .key(newBytes, origin: "new")) == 2)
            let wrappedBy = try await fixture.storage.database.query("SELECT DISTINCT root_version FROM data_keys", [])
            #expect(try wrappedBy.map { try $0.int("root_version") } == [2], "every data key of every tenant is rewrapped")

            // This (stale) server still holds root v1: it may not add data keys wrapped by it.
            let stale = try await client.call(.post, "/v1/sys/keyring/rotate", token: tokenBefore)
            #expect(stale.code == "KEY_VERSION_UNKNOWN" && stale.status == .serviceUnavailable)
            #expect(try await client.call(.post, "/v1/sys/tenants", token: tokenBefore, json: ["name": "late"]).code == "KEY_VERSION_UNKNOWN")
            #expect(try await fixture.storage.tenants.tenant(named: "late") == nil)

            let oldKeyError = await #expect(throws: CofferError.self) {
                _ = try await Keyring.open(storage: fixture.storage, source: .key(SecureRandom.bytes(32), origin: "COFFER_ROOT_KEY"))
            }
            #expect(oldKeyError?.code == .rootKeyInvalid)
            let reopened = try await Keyring.open(storage: fixture.storage, source: .key(newBytes, origin: "COFFER_ROOT_KEY"))
            #expect(reopened.rootVersion == 2)
            let runtime = try CofferRuntime(
                configuration: fixture.runtime.configuration, storage: fixture.storage, keyring: reopened, environment: [:], clock: fixture.clock,
                storageType: "sqlite")
            let tenant = try #require(try await fixture.storage.tenants.tenant(named: "root"))
            let read = try await runtime.secrets.read(tenant: tenant, mount: "secret", path: "before", version: nil)
            #expect(read.data?["v"] == "old-root")
            #expect(try await runtime.tokens.authenticate(tokenBefore).role == .admin, "tokens survive: the hashing key was rewrapped, not replaced")
        }
    }
}

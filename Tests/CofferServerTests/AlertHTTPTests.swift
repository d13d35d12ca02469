import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: alerts")
struct AlertHTTPTests {
    /// The tenant's alerts after the engine has raised what it started.
    static func alerts(_ fixture: Fixture, _ client: Fixture.Client, token: String, namespace: String? = nil) async throws -> [JSONValue] {
        await fixture.runtime.alertEngine.settle()
        let reply = try await client.call(.get, "/v1/alerts", token: token, namespace: namespace)
        guard case .array(let items)? = reply.data["alerts"] else { throw CofferError(.internalError, "no alerts: \(reply.raw)") }
        return items
    }

    @Test func failedAuthenticationsRaiseOneDeduplicatedAlertInTheChain() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for _ in 0..<10 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            #expect(try await Self.alerts(fixture, client, token: root).isEmpty, "ten is the threshold, not above it")
            for _ in 0..<5 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            let alerts = try await Self.alerts(fixture, client, token: root)
            let tenantAlert = try #require(alerts.first { $0["rule"] == "failed_auth" })
            #expect(tenantAlert["state"] == "firing" && tenantAlert["severity"] == "page" && tenantAlert["dedup_key"] == "tenant")
            #expect(alerts.filter { $0["rule"] == "failed_auth" }.count == 1, "repeats count into the open alert")
            #expect(tenantAlert["summary"]?.stringValue?.contains("failed authentications") == true)
            let entries = try await AuditHTTPTests.entries(client, root, "&operation=alert.firing")
            #expect(entries.count == alerts.count && entries.first?["details"]?["rule"] != nil)
            #expect(fixture.logs.all.contains("alert") && !fixture.logs.all.contains("cft_wrong"))
            let metrics = try await client.call(.get, "/metrics", token: root).raw
            #expect(MetricsHTTPTests.value(metrics, #"coffer_alerts_opened_total{rule="failed_auth",severity="page"}"#) == 1)
        }
    }

    @Test func readingNeedsAlertsReadAndChangingAlertsManage() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for _ in 0..<11 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            let id = try #require(try await Self.alerts(fixture, client, token: root).first?["id"]?.stringValue)
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.get, "/v1/alerts", token: modifier).code == "PERMISSION_DENIED")
            let auditor = try await client.token(root, role: "auditor")
            #expect(try await client.call(.get, "/v1/alerts/\(id)", token: auditor).data["id"]?.stringValue == id)
            #expect(try await client.call(.post, "/v1/alerts/\(id)/ack", token: auditor, json: [:]).code == "PERMISSION_DENIED")
            let (reader, _) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["alerts:read"]])
            #expect(try await client.call(.get, "/v1/alerts/rules", bearer: reader).status == .ok)
            #expect(try await client.call(.post, "/v1/alerts/rules/failed_auth", bearer: reader, json: ["threshold": 1]).code == "PERMISSION_DENIED")

            let acked = try await client.call(.post, "/v1/alerts/\(id)/ack", token: root, json: [:])
            #expect(acked.data["state"] == "acknowledged" && acked.data["acknowledged_by"]?.stringValue?.hasPrefix("token:") == true)
            let twice = try await client.call(.post, "/v1/alerts/\(id)/ack", token: root, json: [:])
            #expect(twice.status == .badRequest && twice.code == "INVALID_REQUEST")
            #expect(try await client.call(.get, "/v1/alerts/alr_nope", token: root).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/v1/alerts?state=open", token: root).code == "INVALID_REQUEST")
            #expect(try await client.call(.get, "/v1/alerts?limit=0", token: root).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/alerts/rules/made_up", token: root, json: ["threshold": 1]).code == "NOT_FOUND")

            // Another tenant's admin: its own (empty) alerts, and ours are not found.
            let acme = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"])
            let acmeAdmin = try #require(acme.body["auth"]?["client_token"]?.stringValue)
            #expect(try await Self.alerts(fixture, client, token: acmeAdmin, namespace: "acme").isEmpty)
            #expect(try await client.call(.get, "/v1/alerts/\(id)", token: acmeAdmin, namespace: "acme").code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/alerts/\(id)/ack", token: acmeAdmin, namespace: "acme", json: [:]).code == "NOT_FOUND")
        }
    }

    @Test func rulesAreChangedPerTenantAndTakeEffect() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let changed = try await client.call(.post, "/v1/alerts/rules/failed_auth", token: root, json: ["threshold": 2, "severity": "daily"])
            #expect(changed.data["threshold"] == 2 && changed.data["severity"] == "daily")
            #expect(try await client.call(.post, "/v1/alerts/rules/failed_auth_address", token: root, json: ["enabled": false]).status == .ok)
            #expect(try await client.call(.post, "/v1/alerts/rules/failed_auth", token: root, json: ["threshold": -1]).code == "INVALID_REQUEST")
            for _ in 0..<3 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            let alerts = try await Self.alerts(fixture, client, token: root)
            #expect(alerts.map { $0["rule"] } == ["failed_auth"] && alerts.first?["severity"] == "daily")
            let rules = try await client.call(.get, "/v1/alerts/rules", token: root)
            #expect(rules.data["rules"]?["failed_auth"]?["threshold"] == 2 && rules.data["rules"]?["signature_failure"]?["threshold"] == 0)
            let settings = try await AuditHTTPTests.entries(client, root, "&operation=alert.settings")
            #expect(settings.filter { $0["status"] == 200 }.count == 2 && settings.filter { $0["status"] == 400 }.count == 1)
        }
    }

    @Test func signatureFailuresLeakedAndRevokedKeysRaiseAlerts() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            // A transit signature that does not verify.
            try await client.call(.post, "/v1/transit/keys/orders", token: root, json: ["type": "ed25519"])
            let input = Base64.encode(Array("order 42".utf8))
            let signed = try await client.call(.post, "/v1/transit/sign/orders", token: root, json: ["input": .string(input)])
            let signature = try #require(signed.data["signature"]?.stringValue)
            let other = Base64.encode(Array("order 43".utf8))
            let verdict = try await client.call(
                .post, "/v1/transit/verify/orders", token: root, json: ["input": .string(other), "signature": .string(signature)])
            #expect(verdict.data["valid"] == false)
            // A key reported leaked, then presented to Coffer after its revocation.
            let (key, keyID) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["kv:read:*"]])
            _ = try await LeakReportHTTPTests.report(client, [key])
            #expect(try await client.call(.get, "/v1/secret/data/x", bearer: key).code == "UNAUTHENTICATED")
            let alerts = try await Self.alerts(fixture, client, token: root)
            let rules = Set(alerts.compactMap { $0["rule"]?.stringValue })
            #expect(rules.isSuperset(of: ["signature_failure", "leaked_key", "revoked_key_use", "new_key"]), "\(rules)")
            #expect(alerts.first { $0["rule"] == "leaked_key" }?["details"]?["key_id"]?.stringValue == keyID)
            #expect(alerts.first { $0["rule"] == "new_key" }?["severity"] == "daily")
            let failed = try await AuditHTTPTests.entries(client, root, "&operation=auth.failed")
            #expect(failed.contains { $0["details"]?["key_state"] == "revoked" && $0["actor"]?["id"]?.stringValue == keyID })
        }
    }

    @Test func channelsAreValidatedAndTestedWithoutStoringAnAlert() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            #expect(
                try await client.call(.post, "/v1/alerts/channels/ops", token: root, json: ["type": "webhook", "url": "https://x.example"]).code
                    == "INVALID_REQUEST")
            #expect(
                try await client.call(.post, "/v1/alerts/channels/ops", token: root, json: ["type": "log", "extra": 1]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/alerts/channels/logs", token: root, json: ["type": "log"]).status == .ok)
            let hook = try await client.call(
                .post, "/v1/alerts/channels/hook", token: root,
                json: ["type": "webhook", "url": "http://127.0.0.1:9/x", "secret_ref": "secret/alerts/missing#secret"])
            #expect(hook.data["secret_ref"] == "secret/alerts/missing#secret")
            let listed = try await client.call(.get, "/v1/alerts/channels", token: root)
            #expect(listed.data["channels"]?["logs"]?["type"] == "log" && listed.data["channels"]?["hook"]?["type"] == "webhook")
            let tested = try await client.call(.post, "/v1/alerts/test", token: root, json: [:])
            #expect(tested.data["channels"]?["logs"] == "delivered")
            #expect(tested.data["channels"]?["hook"] == "failed: the signing secret secret/alerts/missing#secret cannot be read")
            #expect(try await client.call(.post, "/v1/alerts/test", token: root, json: ["channel": "nope"]).code == "NOT_FOUND")
            #expect(try await Self.alerts(fixture, client, token: root).isEmpty, "a test stores no alert")
            #expect(try await client.call(.delete, "/v1/alerts/channels/hook", token: root).status == .noContent)
            #expect(try await client.call(.delete, "/v1/alerts/channels/hook", token: root).code == "NOT_FOUND")
        }
    }

    @Test func quietAlertsResolveAfterTheirCooldown() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for _ in 0..<11 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            let before = try await Self.alerts(fixture, client, token: root)
            #expect(!before.isEmpty)
            #expect(try await fixture.runtime.resolveQuietAlerts() == 0, "not quiet yet")
            fixture.clock.advance(millis: 901_000)
            #expect(try await fixture.runtime.resolveQuietAlerts() == before.count)
            let after = try await Self.alerts(fixture, client, token: root)
            #expect(after.allSatisfy { $0["state"] == "resolved" })
            #expect(try await AuditHTTPTests.entries(client, root, "&operation=alert.resolved").count == before.count)
        }
    }

    @Test func theHourlyKeyCheckRaisesExpiringKeys() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let (_, soon) = try await APIKeyHTTPTests.create(client, root, ["name": "soon", "scopes": ["orders:read"], "ttl": "72h"])
            let (_, later) = try await APIKeyHTTPTests.create(client, root, ["name": "later", "scopes": ["orders:read"], "ttl": "720h"])
            #expect(try await fixture.runtime.checkKeyHealth() == 1)
            let alerts = try await Self.alerts(fixture, client, token: root).filter { $0["rule"] == "key_expiring" }
            #expect(alerts.count == 1 && alerts.first?["dedup_key"]?.stringValue == soon && alerts.first?["severity"] == "daily")
            #expect(!alerts.contains { $0["dedup_key"]?.stringValue == later })
            #expect(try await fixture.runtime.checkKeyHealth() == 1, "checked again an hour later")
            let again = try await Self.alerts(fixture, client, token: root).filter { $0["rule"] == "key_expiring" }
            #expect(again.count == 1 && again.first?["count"] == 2, "the same alert, counted")
        }
    }

    /// The hourly check also finds a long-lived token that cannot be renewed past next week, and a transit
    /// key not rotated for a year.
    @Test func theHourlyKeyCheckFindsEndingTokensAndOldTransitKeys() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let created = try await client.call(
                .post, "/v1/auth/token/create", token: root, json: ["policies": ["viewer"], "ttl": "960h", "renewable": false])
            let accessor = try #require(created.body["auth"]?["accessor"]?.stringValue)
            _ = try await client.token(root, role: "viewer", ttl: "1h")  // a short session: never reported
            try await client.call(.post, "/v1/transit/keys/orders", token: root, json: [:])
            #expect(try await fixture.runtime.checkKeyHealth() == 0)
            fixture.clock.advance(millis: 35 * 86_400_000)  // 5 days left of 40
            #expect(try await fixture.runtime.checkKeyHealth() == 1)
            let ending = try await Self.alerts(fixture, client, token: root).filter { $0["rule"] == "token_expiring" }
            #expect(ending.count == 1 && ending.first?["dedup_key"]?.stringValue == accessor && ending.first?["severity"] == "daily")
            fixture.clock.advance(millis: 331 * 86_400_000)  // a year after the key was made; the token is gone
            #expect(try await fixture.runtime.checkKeyHealth() == 1)
            let old = try await Self.alerts(fixture, client, token: root).filter { $0["rule"] == "transit_key_not_rotated" }
            #expect(old.count == 1 && old.first?["dedup_key"] == "transit:orders")
            try await client.call(.post, "/v1/transit/keys/orders/rotate", token: root, json: [:])
            #expect(try await fixture.runtime.checkKeyHealth() == 0, "rotated: nothing to report")
        }
    }

    @Test func theSchedulerRotatesTransitKeysNobodyUses() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/transit/keys/idle", token: root, json: ["auto_rotate_period": "1h"])
            try await client.call(.post, "/v1/transit/keys/manual", token: root, json: [:])
            #expect(try await fixture.runtime.rotateDueTransitKeys() == 0, "not due yet")
            fixture.clock.advance(millis: 3_601_000)
            #expect(try await fixture.runtime.rotateDueTransitKeys() == 1)
            #expect(try await client.call(.get, "/v1/transit/keys/idle", token: root).data["latest_version"] == 2)
            #expect(try await client.call(.get, "/v1/transit/keys/manual", token: root).data["latest_version"] == 1)
            #expect(try await fixture.runtime.rotateDueTransitKeys() == 0, "the new version starts a new period")
        }
    }
}

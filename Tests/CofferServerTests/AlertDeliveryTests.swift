import CofferCore
import Crypto
import Foundation
import Logging
import Testing

@testable import CofferServer

@Suite("Alert deliveries: Standard Webhooks signatures, retries, SMTP messages")
struct AlertDeliveryTests {
    @Test func signaturesMatchTheStandardWebhooksVector() throws {
        // The specification's published example (also what the PyPI standardwebhooks library computes).
        let key = try #require(StandardWebhook.key(secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let headers = StandardWebhook.headers(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), key: key)
        #expect(headers.first { $0.0 == "webhook-signature" }?.1 == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(StandardWebhook.key(secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil, "only whsec_ secrets")
        #expect(StandardWebhook.key(secret: "whsec_c2hvcnQ=") == nil, "too short to be a signing key")
        #expect(StandardWebhook.key(secret: "whsec_not base64!") == nil)
    }

    @Test func aFlakyReceiverGetsTheSameSignedMessageUntilItTakesIt() async throws {
        let fixture = try await Fixture.make { $0.alertsAllowInternalURLs = true }
        let upstream = TestUpstream()
        upstream.hookFailures.withLock { $0 = 2 }
        let secret = "whsec_" + Base64.encode(SecureRandom.bytes(32))
        let runtime = fixture.runtime
        try await fixture.test { client in
            try await client.call(.post, "/v1/secret/data/alerts/hook", token: fixture.rootToken, json: ["data": ["secret": .string(secret)]])
            try await upstream.run { port in
                var notifier = runtime.alertNotifier
                notifier.retryDelays = [.milliseconds(20), .milliseconds(20), .milliseconds(20)]
                let tenant = try #require(try await runtime.storage.tenants.systemTenant())
                let channel = try AlertChannel.parse(
                    name: "ops", ["type": "webhook", "url": .string("http://127.0.0.1:\(port)/v2/hooks"), "secret_ref": "secret/alerts/hook#secret"])
                let alert = AlertRecord(
                    id: "alr_0123456789abcdefghijkl", tenantID: tenant.id, rule: .leakedKey, severity: .page, state: .firing, dedupKey: "key_1",
                    summary: "API key key_1 was reported leaked and revoked", details: ["key_id": "key_1"], count: 1, firstAt: 1_000, lastAt: 1_000)
                let body = AlertNotifier.payload(alert, tenant: tenant, type: "alert.firing", time: 1_790_000_000_000)
                let outcome = await notifier.deliver(body, alert: alert, tenant: tenant, to: channel, retrying: true, time: 1_790_000_000_000)
                #expect(outcome == "delivered")
                let received = upstream.received.withLock { $0 }.filter { $0.path == "/v2/hooks" }
                #expect(received.count == 3, "two 503s, then delivered")
                #expect(Set(received.compactMap { $0.headers["webhook-id"] }).count == 1, "one message id across retries")
                let last = try #require(received.last)
                let key = try #require(StandardWebhook.key(secret: secret))
                let expected = StandardWebhook.headers(
                    id: last.headers["webhook-id"] ?? "", timestamp: Int64(last.headers["webhook-timestamp"] ?? "") ?? 0, body: Array(last.body.utf8),
                    key: key)
                #expect(last.headers["webhook-signature"] == expected.first { $0.0 == "webhook-signature" }?.1)
                #expect(last.headers["webhook-timestamp"] == "1790000000" && last.headers["content-type"] == "application/json")
                #expect(!last.body.contains(secret) && last.body.contains("\"rule\":\"leaked_key\""))

                upstream.hookFailures.withLock { $0 = 10 }
                let once = await notifier.deliver(body, alert: alert, tenant: tenant, to: channel, retrying: false, time: 1_790_000_000_000)
                #expect(once == "failed: the receiver answered 503")
                let refusedChannel = try AlertChannel.parse(
                    name: "ops", ["type": "webhook", "url": "http://127.0.0.1:1/v2/hooks", "secret_ref": "secret/alerts/nothing#secret"])
                #expect(
                    await notifier.deliver(body, alert: alert, tenant: tenant, to: refusedChannel, retrying: false, time: 0)
                        == "failed: the signing secret secret/alerts/nothing#secret cannot be read")
            }
        }
    }

    @Test func internalWebhookURLsNeedTheSetting() async throws {
        let fixture = try await Fixture.make()
        let secret = "whsec_" + Base64.encode(SecureRandom.bytes(32))
        try await fixture.test { client in
            try await client.call(.post, "/v1/secret/data/alerts/hook", token: fixture.rootToken, json: ["data": ["secret": .string(secret)]])
            try await client.call(
                .post, "/v1/alerts/channels/inside", token: fixture.rootToken,
                json: ["type": "webhook", "url": "http://169.254.169.254/latest", "secret_ref": "secret/alerts/hook#secret"])
            let tested = try await client.call(.post, "/v1/alerts/test", token: fixture.rootToken, json: [:])
            #expect(
                tested.data["channels"]?["inside"]
                    == "failed: the url is not one Coffer posts to (https, or http with alerts.allow_internal_urls)")
        }
    }

    @Test func mailMessagesAreDotStuffedAndHeadersStayOnOneLine() {
        let message = SMTPMailer.message(
            from: "coffer@example.com", to: ["a@example.com", "b@example.com"], subject: "[Coffer page] root: x\r\nBcc: evil@example.com",
            text: "line one\n.hidden dot\r\n..two", date: Date(timeIntervalSince1970: 1_790_000_000))
        let lines = message.components(separatedBy: "\r\n")
        #expect(lines.contains("Subject: [Coffer page] root: xBcc: evil@example.com"), "no header injection")
        #expect(!lines.contains { $0.hasPrefix("Bcc:") })
        #expect(lines.contains("To: a@example.com, b@example.com") && lines.contains("Date: Mon, 21 Sep 2026 14:13:20 +0000"))
        #expect(lines.suffix(3) == ["line one", "..hidden dot", "...two"])
        #expect(!message.contains("\n.\r\n") && !message.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    /// A webhook channel `ops` posting to the test receiver on `port`, its new `whsec_` secret in KV
    /// (`secret/alerts/hook`); returns the secret.
    static func webhookChannel(_ client: Fixture.Client, _ token: String, port: Int) async throws -> String {
        let secret = "whsec_" + Base64.encode(SecureRandom.bytes(32))
        try await client.call(.post, "/v1/secret/data/alerts/hook", token: token, json: ["data": ["secret": .string(secret)]])
        try await client.call(
            .post, "/v1/alerts/channels/ops", token: token,
            json: ["type": "webhook", "url": .string("http://127.0.0.1:\(port)/v2/hooks"), "secret_ref": "secret/alerts/hook#secret"])
        return secret
    }

    /// Whether `message` carries the Standard Webhooks signature of its body under `secret`.
    static func signedCorrectly(_ message: TestUpstream.Received, secret: String) -> Bool {
        guard let key = StandardWebhook.key(secret: secret) else { return false }
        let expected = StandardWebhook.headers(
            id: message.headers["webhook-id"] ?? "", timestamp: Int64(message.headers["webhook-timestamp"] ?? "") ?? 0,
            body: Array(message.body.utf8), key: key)
        return message.headers["webhook-signature"] == expected.first { $0.0 == "webhook-signature" }?.1
    }

    @Test func dailyAlertsWaitForTheirDigest() async throws {
        let fixture = try await Fixture.make { $0.alertsAllowInternalURLs = true }
        let upstream = TestUpstream()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await upstream.run { port in
                let secret = try await Self.webhookChannel(client, root, port: port)
                _ = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
                await fixture.runtime.alertEngine.settle()
                try await Task.sleep(for: .milliseconds(200))
                #expect(upstream.count == 0, "a daily alert is not sent at once")
                #expect(try await fixture.runtime.sendDigests() == 1)
                let digest = try #require(upstream.last)
                #expect(digest.body.contains("\"type\":\"alert.digest\"") && digest.body.contains("\"rule\":\"new_key\""))
                #expect(Self.signedCorrectly(digest, secret: secret))
                #expect(try await fixture.runtime.sendDigests() == 0, "one digest a day")
                fixture.clock.advance(millis: 86_400_000)
                #expect(try await fixture.runtime.sendDigests() == 0, "nothing new since the last digest")
                _ = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
                await fixture.runtime.alertEngine.settle()
                #expect(try await fixture.runtime.sendDigests() == 1)
                #expect(upstream.count == 2)
                #expect(try await AuditHTTPTests.entries(client, root, "&operation=alert.digest").count == 2)
            }
        }
    }
}

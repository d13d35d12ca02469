import CofferCore
import Foundation
import Logging

/// Tells a tenant's channels about an alert: always the server log (a warning line: tenant, rule,
/// severity, alert id — never a secret), then every configured webhook (Standard Webhooks-signed,
/// retried with backoff) and email address (through the SMTP relay) whose minimum severity it meets.
/// Deliveries run in the background; a failure is logged and never fails the request that raised it.
struct AlertNotifier: Sendable {
    let upstream: UpstreamTransport
    let secrets: SecretService
    let mailer: SMTPMailer?
    let allowInternal: Bool
    let logger: Logger
    /// Waits before each retry of a webhook (the first delivery goes at once).
    var retryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(25), .seconds(120)]

    /// The JSON body of a notification: `{type, timestamp, data}` (Standard Webhooks' payload shape).
    static func payload(_ alert: AlertRecord, tenant: Tenant, type: String, time: Int64) -> [UInt8] {
        let data: [String: JSONValue] = [
            "id": .string(alert.id), "tenant": .string(tenant.name), "rule": .string(alert.rule.rawValue),
            "severity": .string(alert.severity.rawValue), "state": .string(alert.state.rawValue), "summary": .string(alert.summary),
            "details": .object(alert.details.mapValues(JSONValue.string)), "count": .int(alert.count),
            "first_at": .string(Timestamp.rfc3339(alert.firstAt)), "last_at": .string(Timestamp.rfc3339(alert.lastAt)),
        ]
        return JSONValue.object(["type": .string(type), "timestamp": .string(Timestamp.rfc3339(time)), "data": .object(data)]).canonicalBytes()
    }

    /// Logs the alert and starts the deliveries to `channels`.
    func notify(_ alert: AlertRecord, tenant: Tenant, channels: [AlertChannel], type: String = "alert.firing", time: Int64) {
        logger.warning(
            "alert",
            metadata: [
                "tenant": .string(tenant.name), "alert_id": .string(alert.id), "rule": .string(alert.rule.rawValue),
                "severity": .string(alert.severity.rawValue), "summary": .string(alert.summary), "count": .stringConvertible(alert.count),
            ])
        let body = Self.payload(alert, tenant: tenant, type: type, time: time)
        for channel in channels where channel.sends(alert.severity) {
            Task { _ = await deliver(body, alert: alert, tenant: tenant, to: channel, retrying: true, time: time) }
        }
    }

    /// The JSON body of a digest: `{type: "alert.digest", timestamp, data: {tenant, severity, alerts}}`.
    static func digestPayload(_ alerts: [AlertRecord], tenant: Tenant, severity: AlertSeverity, time: Int64) -> [UInt8] {
        let items: [JSONValue] = alerts.map { alert in
            [
                "id": .string(alert.id), "rule": .string(alert.rule.rawValue), "summary": .string(alert.summary), "count": .int(alert.count),
                "first_at": .string(Timestamp.rfc3339(alert.firstAt)), "last_at": .string(Timestamp.rfc3339(alert.lastAt)),
            ]
        }
        let data: [String: JSONValue] = ["tenant": .string(tenant.name), "severity": .string(severity.rawValue), "alerts": .array(items)]
        return JSONValue.object(["type": "alert.digest", "timestamp": .string(Timestamp.rfc3339(time)), "data": .object(data)]).canonicalBytes()
    }

    /// Sends one digest of `alerts` to every channel taking `severity`; answers each channel's outcome.
    func digest(_ alerts: [AlertRecord], tenant: Tenant, severity: AlertSeverity, channels: [AlertChannel], time: Int64) async -> [String: String] {
        logger.info(
            "alert digest",
            metadata: ["tenant": .string(tenant.name), "severity": .string(severity.rawValue), "alerts": .stringConvertible(alerts.count)])
        let body = Self.digestPayload(alerts, tenant: tenant, severity: severity, time: time)
        // The digest travels as a pseudo-alert (its id names the message; its summary is the email subject).
        let carrier = AlertRecord(
            id: "alr_digest\(severity.rawValue)\(time)", tenantID: tenant.id, rule: alerts.first?.rule ?? .newKey, severity: severity,
            state: .firing, dedupKey: "digest", summary: "\(severity.rawValue) digest: \(alerts.count) alert\(alerts.count == 1 ? "" : "s")",
            details: Dictionary(uniqueKeysWithValues: alerts.prefix(50).map { ($0.id, $0.summary) }), count: alerts.count,
            firstAt: alerts.map(\.firstAt).min() ?? time, lastAt: alerts.map(\.lastAt).max() ?? time)
        var outcomes: [String: String] = [:]
        for channel in channels where channel.sends(severity) {
            outcomes[channel.name] = await deliver(body, alert: carrier, tenant: tenant, to: channel, retrying: true, time: time)
        }
        return outcomes
    }

    /// Delivers `body` to one channel; with `retrying`, a webhook is retried on failure. Answers an
    /// outcome line (`delivered`, or why not) for `coffer alerts test`.
    func deliver(_ body: [UInt8], alert: AlertRecord, tenant: Tenant, to channel: AlertChannel, retrying: Bool, time: Int64) async -> String {
        switch channel.kind {
        case .log:
            return "delivered"
        case .email:
            guard let mailer else {
                logger.warning("alert email not sent: no SMTP relay configured (alerts.smtp_host)", metadata: ["channel": .string(channel.name)])
                return "not sent: no SMTP relay configured (alerts.smtp_host)"
            }
            do {
                try await mailer.send(
                    to: channel.to, subject: "[Coffer \(alert.severity.rawValue)] \(tenant.name): \(alert.summary)",
                    text: Self.mailText(alert, tenant: tenant))
                return "delivered"
            } catch {
                logger.warning("alert email failed", metadata: ["channel": .string(channel.name), "error": .string("\(error)")])
                return "failed: \(error)"
            }
        case .webhook:
            let attempts = retrying ? [Duration.zero] + retryDelays : [.zero]
            var outcome = "failed"
            for delay in attempts {
                if delay > .zero { try? await Task.sleep(for: delay) }
                outcome = await postWebhook(body, alert: alert, tenant: tenant, channel: channel, time: time)
                if outcome == "delivered" { return outcome }
            }
            logger.warning("alert webhook not delivered", metadata: ["channel": .string(channel.name), "outcome": .string(outcome)])
            return outcome
        }
    }

    /// One signed POST; `delivered` on any 2xx.
    func postWebhook(_ body: [UInt8], alert: AlertRecord, tenant: Tenant, channel: AlertChannel, time: Int64) async -> String {
        guard let url = channel.url, let reference = channel.secretRef else { return "failed: the channel has no url or secret_ref" }
        let secret: String
        do {
            let credential = try GatewayCredential.parse(["placement": "bearer", "secret": .string(reference)], path: "secret_ref")
            secret = try await GatewayService.readCredential(secrets, tenant: tenant, credential)
        } catch {
            return "failed: the signing secret \(reference) cannot be read"
        }
        guard let key = StandardWebhook.key(secret: secret) else {
            return "failed: the signing secret \(reference) is not a whsec_ secret (base64, 24-64 bytes)"
        }
        let provider: GatewayProvider
        do {
            provider = try GatewayProvider.parse(
                ["base_url": .string(url), "allow_internal": .bool(allowInternal), "read_timeout_ms": 10_000, "max_response_bytes": 65_536],
                path: "url")
        } catch {
            return "failed: the url is not one Coffer posts to (https, or http with alerts.allow_internal_urls)"
        }
        // One message id per alert notification, so a receiver can drop a retried duplicate.
        let messageID = "msg_\(alert.id.dropFirst(4))_\(time)"
        let call = GatewayService.UpstreamCall.post(
            provider,
            headers: [("content-type", "application/json")] + StandardWebhook.headers(id: messageID, timestamp: time / 1000, body: body, key: key),
            body: body)
        do {
            let answer = try await upstream.perform(call)
            return (200..<300).contains(answer.status) ? "delivered" : "failed: the receiver answered \(answer.status)"
        } catch let error as CofferError {
            return "failed: \(error.code.rawValue)"
        } catch {
            return "failed: the receiver could not be reached"
        }
    }

    static func mailText(_ alert: AlertRecord, tenant: Tenant) -> String {
        var lines = [
            "Coffer raised an alert.", "", "Tenant:   \(tenant.name)", "Rule:     \(alert.rule.rawValue)", "Severity: \(alert.severity.rawValue)",
            "State:    \(alert.state.rawValue)", "Alert:    \(alert.id)", "Summary:  \(alert.summary)", "Count:    \(alert.count)",
            "First:    \(Timestamp.rfc3339(alert.firstAt))", "Latest:   \(Timestamp.rfc3339(alert.lastAt))",
        ]
        for (key, value) in alert.details.sorted(by: { $0.key < $1.key }) { lines.append("\(key): \(value)") }
        lines += ["", "Acknowledge: coffer alerts ack \(alert.id)"]
        return lines.joined(separator: "\r\n")
    }
}

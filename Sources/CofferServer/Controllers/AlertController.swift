import CofferCore
import HTTPTypes
import Hummingbird

/// Alerts under `/v1/alerts`: list, show and acknowledge alerts; read and change the rules; add,
/// list and remove channels; send a test notification. Reading needs `alerts:read` (admin and auditor
/// tokens); changing needs `alerts:manage` (admins). Everything is per tenant.
public struct AlertController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var alerts: AlertService { runtime.alerts }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 64 * 1024)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/alerts") { request, context in try await list(request, context) }
        router.get("/v1/alerts/rules") { request, context in try await rules(request, context) }
        router.post("/v1/alerts/rules/:name") { request, context in try await updateRule(request, context) }
        router.get("/v1/alerts/channels") { request, context in try await channels(request, context) }
        router.post("/v1/alerts/channels/:name") { request, context in try await putChannel(request, context) }
        router.delete("/v1/alerts/channels/:name") { request, context in try await deleteChannel(request, context) }
        router.post("/v1/alerts/test") { request, context in try await test(request, context) }
        router.get("/v1/alerts/:id") { request, context in try await show(request, context) }
        router.post("/v1/alerts/:id/ack") { request, context in try await acknowledge(request, context) }
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAlerts)
        context.work.describe("alert.list", "alert", "")
        let parameters = request.uri.queryParameters
        var state: AlertState?
        if let text = parameters.get("state") {
            guard let known = AlertState(rawValue: text) else { throw CofferError(.invalidRequest, "state must be firing, acknowledged or resolved") }
            state = known
        }
        var limit = 100
        if let text = parameters.get("limit") {
            guard let number = Int(text) else { throw CofferError(.invalidRequest, "limit must be 1-1000") }
            limit = number
        }
        let found = try await alerts.list(tenantID: caller.tenant.id, state: state, limit: limit)
        return VaultResponse.data(["alerts": .array(found.map(Self.describe))], context: context)
    }

    func show(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAlerts)
        let id = context.parameters.get("id") ?? ""
        context.work.describe("alert.read", "alert", id)
        return VaultResponse.data(Self.describe(try await alerts.alert(id: id, tenantID: caller.tenant.id)), context: context)
    }

    func acknowledge(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAlerts)
        let id = context.parameters.get("id") ?? ""
        context.work.describe("alert.acknowledged", "alert", id)
        let fields = try await body.object(request, context)
        try fields.admit([])
        let alert = try await alerts.acknowledge(
            id: id, tenantID: caller.tenant.id, by: "\(caller.actor.kind):\(caller.actor.id)", in: context.work)
        return VaultResponse.data(Self.describe(alert), context: context)
    }

    func rules(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAlerts)
        context.work.describe("alert.rules.read", "alert", "")
        let settings = try await alerts.settings(tenantID: caller.tenant.id)
        var rules: [String: JSONValue] = [:]
        for name in AlertRuleName.allCases { rules[name.rawValue] = settings.rule(name).json }
        return VaultResponse.data(["rules": .object(rules)], context: context)
    }

    func updateRule(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAlerts)
        guard let name = context.parameters.get("name").flatMap(AlertRuleName.init(rawValue:)) else {
            throw CofferError(.notFound, "no alert rule of this name")
        }
        context.work.describe("alert.settings", "alert_rule", name.rawValue)
        let fields = try await body.object(request, context)
        let rule = try await alerts.updateRule(tenantID: caller.tenant.id, name, fields, in: context.work)
        runtime.alertEngine.forget(caller.tenant.id)
        return VaultResponse.data(rule.json, context: context)
    }

    func channels(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAlerts)
        context.work.describe("alert.channels.read", "alert", "")
        let settings = try await alerts.settings(tenantID: caller.tenant.id)
        return VaultResponse.data(
            ["channels": .object(settings.channels.mapValues(\.json)), "log": "every alert is also written to the server log"], context: context)
    }

    func putChannel(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAlerts)
        let name = context.parameters.get("name") ?? ""
        context.work.describe("alert.settings", "alert_channel", name)
        let fields = try await body.object(request, context)
        let channel = try await alerts.putChannel(tenantID: caller.tenant.id, name: name, fields, in: context.work)
        runtime.alertEngine.forget(caller.tenant.id)
        return VaultResponse.data(channel.json, context: context)
    }

    func deleteChannel(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAlerts)
        let name = context.parameters.get("name") ?? ""
        context.work.describe("alert.settings", "alert_channel", name)
        try await alerts.deleteChannel(tenantID: caller.tenant.id, name: name, in: context.work)
        runtime.alertEngine.forget(caller.tenant.id)
        return VaultResponse.noContent()
    }

    /// `POST /v1/alerts/test {channel?}`: one notification of a test alert (not stored) to every channel,
    /// or the one named, once, without retries; answers each channel's outcome.
    func test(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAlerts)
        context.work.describe("alert.test", "alert", "")
        let fields = try await body.object(request, context)
        try fields.admit(["channel"])
        let settings = try await alerts.settings(tenantID: caller.tenant.id)
        var channels = Array(settings.channels.values).sorted { $0.name < $1.name }
        if let name = try fields.string("channel") {
            guard let channel = settings.channels[name] else { throw CofferError(.notFound, "no alert channel of this name") }
            channels = [channel]
        }
        let now = runtime.clock.nowMillis
        let alert = AlertRecord(
            id: AlertService.newID(), tenantID: caller.tenant.id, rule: .failedAuth, severity: .page, state: .firing, dedupKey: "test",
            summary: "test alert from coffer alerts test", details: ["test": "true"], count: 1, firstAt: now, lastAt: now)
        let payload = AlertNotifier.payload(alert, tenant: caller.tenant, type: "alert.test", time: now)
        var outcomes: [String: JSONValue] = [:]
        for channel in channels {
            outcomes[channel.name] = .string(
                await runtime.alertNotifier.deliver(payload, alert: alert, tenant: caller.tenant, to: channel, retrying: false, time: now))
        }
        context.work.addDetails(["channels": String(channels.count)])
        return VaultResponse.data(["alert_id": .string(alert.id), "channels": .object(outcomes)], context: context)
    }

    /// An alert as answered.
    static func describe(_ alert: AlertRecord) -> JSONValue {
        let time: (Int64?) -> JSONValue = { $0.map { .string(Timestamp.rfc3339($0)) } ?? .null }
        return [
            "id": .string(alert.id), "rule": .string(alert.rule.rawValue), "severity": .string(alert.severity.rawValue),
            "state": .string(alert.state.rawValue), "summary": .string(alert.summary), "details": .object(alert.details.mapValues(JSONValue.string)),
            "count": .int(alert.count), "first_at": time(alert.firstAt), "last_at": time(alert.lastAt), "notified_at": time(alert.notifiedAt),
            "acknowledged_by": alert.acknowledgedBy.map(JSONValue.string) ?? .null, "acknowledged_at": time(alert.acknowledgedAt),
            "resolved_at": time(alert.resolvedAt), "dedup_key": .string(alert.dedupKey),
        ]
    }
}

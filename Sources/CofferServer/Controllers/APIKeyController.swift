import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// API keys under `/v1/keys`: create, list, read, update, revoke, rotate, and `POST /v1/keys/verify`.
/// Keys are shown once, at creation or rotation; every other answer shows the display prefix only.
public struct APIKeyController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var keys: APIKeyService { runtime.apiKeys }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.post("/v1/keys/verify") { request, context in try await verify(request, context) }
        router.post("/v1/keys/leaked") { request, context in try await leaked(request, context) }
        router.post("/v1/keys") { request, context in try await create(request, context) }
        router.get("/v1/keys") { request, context in try await list(request, context) }
        router.get("/v1/keys/:id") { request, context in try await show(request, context) }
        router.patch("/v1/keys/:id") { request, context in try await update(request, context) }
        router.post("/v1/keys/:id") { request, context in try await update(request, context) }
        router.post("/v1/keys/:id/revoke") { request, context in try await revoke(request, context) }
        router.post("/v1/keys/:id/rotate") { request, context in try await rotate(request, context) }
    }

    func keyID(_ context: CofferRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), id.hasPrefix("key_"), id.utf8.count <= 64 else {
            throw CofferError(.notFound, "no such API key")
        }
        return id
    }

    func create(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        context.work.describe("keys.create", "api_key", "")
        let fields = try await body.object(request, context)
        let settings = try Self.settings(fields, now: runtime.clock.nowMillis)
        let (key, record) = try await keys.create(
            tenant: caller.tenant, settings: settings, admin: try fields.bool("admin") ?? false, publishable: try fields.bool("publishable") ?? false,
            grantor: caller.grantor, in: context.work)
        return VaultResponse.data(.object(Self.describe(record, tenant: caller.tenant, key: key)), context: context)
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        context.work.describe("keys.list", "api_key", "")
        let parameters = request.uri.queryParameters
        let limit = parameters.get("limit").flatMap(Int.init) ?? 100
        guard (1...1000).contains(limit) else { throw CofferError(.invalidRequest, "limit must be 1-1000") }
        let records = try await keys.list(tenantID: caller.tenant.id, afterID: parameters.get("after") ?? "", limit: limit)
        return VaultResponse.data(
            [
                "keys": .array(records.map { .object(Self.describe($0, tenant: caller.tenant)) }),
                "next_after": records.count == limit ? records.last.map { .string($0.id) } ?? .null : .null,
            ], context: context)
    }

    func show(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        let id = try keyID(context)
        context.work.describe("keys.read", "api_key", id)
        return VaultResponse.data(
            .object(Self.describe(try await keys.get(id: id, tenantID: caller.tenant.id), tenant: caller.tenant)), context: context)
    }

    func update(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        let id = try keyID(context)
        context.work.describe("keys.update", "api_key", id)
        let fields = try await body.object(request, context)
        if fields["admin"] != nil || fields["publishable"] != nil {
            throw CofferError(.invalidRequest, "a key's kind cannot change; create a new key")
        }
        let settings = try Self.settings(fields, now: runtime.clock.nowMillis)
        let record = try await keys.update(id: id, tenantID: caller.tenant.id, settings: settings, grantor: caller.grantor, in: context.work)
        return VaultResponse.data(.object(Self.describe(record, tenant: caller.tenant)), context: context)
    }

    func revoke(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        let id = try keyID(context)
        context.work.describe("keys.revoke", "api_key", id)
        let fields = try await body.object(request, context)
        try fields.admit(["reason"])
        let record = try await keys.revoke(
            id: id, tenantID: caller.tenant.id, reason: try fields.string("reason") ?? "", by: "\(caller.actor.kind):\(caller.actor.id)",
            grantor: caller.grantor, in: context.work)
        return VaultResponse.data(.object(Self.describe(record, tenant: caller.tenant)), context: context)
    }

    /// `POST /v1/keys/leaked {keys: [...], source}`: revokes every live key reported (reason
    /// `leaked: <source>`), each audited as `keys.leaked` in its own tenant's chain. No credential is
    /// needed — holding a key is the proof — and then the answer says only how many were received.
    /// A caller with a credential learns the outcome of the keys of its own tenant, and `reported` for
    /// the rest (other tenants' keys are revoked all the same, without saying so).
    func leaked(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller: Caller?
        if Authenticator.credential(request) != nil {
            caller = try await auth.authenticate(request, context)
        } else {
            caller = nil
            try await auth.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
            if context.work.isAudited, let system = try await runtime.storage.tenants.systemTenant() {
                try auth.identify(system, .anonymous, operation: nil, in: context.work)
            }
        }
        context.work.describe("keys.leaked.report", "api_key", "")
        // The keys are never recorded, not even HMAC-redacted.
        let fields = try await body.object(request, context, recording: false)
        try fields.admit(["keys", "source"])
        guard let presented = try fields.stringList("keys") else { throw CofferError(.invalidRequest, "missing keys") }
        let source = try fields.string("source") ?? "reported"
        let actor = caller?.actor ?? AuditActor(kind: "anonymous", id: "", role: "", displayName: "leak report")
        let audited = context.work.isAudited
        var made: [UnitOfWork] = []
        let reports = try await keys.revokeLeaked(
            presented, source: source, by: caller == nil ? "anonymous:leak-report" : "\(actor.kind):\(actor.id)"
        ) {
            record in
            let work = UnitOfWork(
                record: AuditRecord(
                    time: runtime.clock.nowMillis, actor: actor, operation: "keys.leaked", resourceType: "api_key", resourceID: record.id,
                    clientIP: context.clientIP, userAgent: request.headers[.userAgent] ?? "", requestID: context.requestID, status: 200,
                    errorCode: "", request: .null, details: ["source": source]),
                audited: audited)
            work.identify(tenantID: record.tenantID, actor: actor) { _ in .null }
            made.append(work)
            return work
        }
        for work in made { if let entry = work.committedEntry { runtime.auditCommitted(entry) } }
        let revoked = reports.filter { $0.outcome == .revoked || $0.outcome == .expired }.count
        context.work.addDetails(["received": String(presented.count), "revoked": String(revoked)])
        guard let caller else { return VaultResponse.data(["received": .int(presented.count)], context: context) }
        let items: [JSONValue] = reports.map { report in
            guard let record = report.record, record.tenantID == caller.tenant.id else { return ["status": "reported"] }
            return ["status": .string(report.outcome.rawValue), "id": .string(record.id), "prefix": .string(record.displayPrefix)]
        }
        return VaultResponse.data(["received": .int(presented.count), "keys": .array(items)], context: context)
    }

    func rotate(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageKeys)
        let id = try keyID(context)
        context.work.describe("keys.rotate", "api_key", id)
        let fields = try await body.object(request, context)
        try fields.admit(["grace"])
        let grace = try fields.duration("grace") ?? 0
        let (key, record) = try await keys.rotate(id: id, tenantID: caller.tenant.id, graceSeconds: grace, grantor: caller.grantor, in: context.work)
        return VaultResponse.data(.object(Self.describe(record, tenant: caller.tenant, key: key)), context: context)
    }

    func verify(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .verifyKeys)
        context.work.describe("keys.verify", "api_key", "")
        context.work.summariseOnSuccess()
        let fields = try await body.object(request, context)
        try fields.admit(["key", "scopes", "ip", "cost"])
        guard let presented = try fields.string("key"), !presented.isEmpty, presented.utf8.count <= 512 else {
            throw CofferError(.invalidRequest, "'key' is required")
        }
        var required: [APIKeyVerifier.Requirement] = []
        for text in try fields.stringList("scopes") ?? [] {
            guard let need = APIKeyVerifier.Requirement(text) else {
                throw CofferError(.invalidRequest, "scopes must look like resource:action[:target]")
            }
            required.append(need)
        }
        let ip = try fields.string("ip")
        if let ip, !CIDR.isAddress(ip) {
            throw CofferError(.invalidRequest, "'ip' must be an IPv4 or IPv6 address")
        }
        let cost = try fields.int("cost") ?? 1
        guard (0...1_000_000).contains(cost) else { throw CofferError(.invalidRequest, "'cost' must be 0-1000000") }
        let outcome = try await keys.verify(presented, tenantID: caller.tenant.id, clientIP: ip, required: required, cost: cost)
        // Written field by field: this answer is the hot path of the verify benchmark.
        var answer = JSONObjectWriter()
        answer.field("valid", .bool(outcome.code == .valid))
        answer.field("code", .string(outcome.code.rawValue))
        let record = outcome.record
        answer.field("key_id", record.map { .string($0.id) } ?? .null)
        answer.field("tenant", record == nil ? .null : .string(caller.tenant.name))
        answer.field("environment", record == nil ? .null : .string(caller.tenant.environment.rawValue))
        answer.field("name", record.map { .string($0.name) } ?? .null)
        answer.field("scopes", record.map { .array($0.scopes.map(JSONValue.string)) } ?? .null)
        answer.field("expires_at", record?.expiresAt.map { .string(Timestamp.rfc3339($0)) } ?? .null)
        answer.field("meta", record.map { .object($0.metadata.mapValues(JSONValue.string)) } ?? .null)
        answer.field(
            "ratelimit",
            outcome.rateLimit.map { ["limit": .int($0.limit), "remaining": .int($0.remaining), "reset": .int($0.resetSeconds)] } ?? .null)
        answer.field(
            "quota", outcome.quota.map { ["limit": .int($0.limit), "remaining": .int($0.remaining), "reset": .int($0.resetSeconds)] } ?? .null)
        answer.field("request_id", .string(context.requestID))
        return VaultResponse.bytes(answer.finish(), status: .ok)
    }

    // MARK: - Representation

    /// Reads key settings from a request body: `name`, `scopes`, `expires_at` (RFC 3339, `null` removes) or
    /// `ttl`, `allowed_ips`, `rate_limit: {limit, period}`, `quota: {limit, period: day|month|duration}`, `metadata`.
    static func settings(_ fields: [String: JSONValue], now: Int64) throws(CofferError) -> APIKeyService.Settings {
        let known: Set<String> = ["name", "scopes", "expires_at", "ttl", "allowed_ips", "rate_limit", "quota", "metadata", "admin", "publishable"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw CofferError.unknownParameter(unknown, "the fields are \(known.sorted().joined(separator: ", "))")
        }
        var settings = APIKeyService.Settings(
            name: try fields.string("name"), scopes: try fields.stringList("scopes"), allowedCIDRs: try fields.stringList("allowed_ips"),
            metadata: try fields.stringMap("metadata"))
        if let ttl = try fields.duration("ttl") {
            settings.expiresAt = .some(ttl > 0 ? now + ttl * 1000 : nil)
        } else if let value = fields["expires_at"] {
            if value == .null {
                settings.expiresAt = .some(nil)
            } else {
                guard let text = value.stringValue, let millis = Timestamp.parse(text) else {
                    throw CofferError(.invalidRequest, "'expires_at' must be an RFC 3339 time")
                }
                settings.expiresAt = .some(millis)
            }
        }
        if let rate = try fields.object("rate_limit") {
            settings.rateLimit = try rate.int("limit") ?? 0
            settings.ratePeriodMillis = (try rate.duration("period") ?? 60) * 1000
        }
        if let quota = try fields.object("quota") {
            settings.quotaLimit = try quota.int("limit") ?? 0
            switch quota["period"]?.stringValue {
            case "day": settings.quotaWindowMillis = 86_400_000
            case "month": settings.quotaWindowMillis = 30 * 86_400_000
            default: settings.quotaWindowMillis = (try quota.duration("period") ?? 86_400) * 1000
            }
        }
        return settings
    }

    /// A key as shown to its managers: everything but its hash, and the key itself only when just made (`key`).
    static func describe(_ record: APIKeyRecord, tenant: Tenant, key: String? = nil) -> [String: JSONValue] {
        let time: (Int64?) -> JSONValue = { $0.map { .string(Timestamp.rfc3339($0)) } ?? .null }
        var fields: [String: JSONValue] = [
            "id": .string(record.id), "key_id": .string(record.id), "name": .string(record.name), "prefix": .string(record.displayPrefix),
            "kind": .string(record.kind.rawValue), "tenant": .string(tenant.name), "environment": .string(tenant.environment.rawValue),
            "scopes": .array(record.scopes.map(JSONValue.string)), "created_at": time(record.createdAt), "expires_at": time(record.expiresAt),
            "last_used_at": time(record.lastUsedAt), "revoked": .bool(record.revokedAt != nil), "revoked_at": time(record.revokedAt),
            "revoked_reason": record.revokedReason.map(JSONValue.string) ?? .null, "revoked_by": record.revokedBy.map(JSONValue.string) ?? .null,
            "allowed_ips": .array(record.allowedCIDRs.map(JSONValue.string)),
            "rate_limit": record.rateLimit > 0 ? ["limit": .int(record.rateLimit), "period": .int(Int(record.ratePeriodMillis / 1000))] : .null,
            "quota": record.quotaLimit > 0 ? ["limit": .int(record.quotaLimit), "period": .int(Int(record.quotaWindowMillis / 1000))] : .null,
            "metadata": .object(record.metadata.mapValues(JSONValue.string)),
            "rotated_from": record.rotatedFrom.map(JSONValue.string) ?? .null, "rotated_to": record.rotatedTo.map(JSONValue.string) ?? .null,
        ]
        if let key { fields["key"] = .string(key) }
        return fields
    }
}

import CofferCore
import HTTPTypes
import Hummingbird

/// `/v1/audit/*` and Vault's `/v1/sys/audit-hash`: reading, verifying, checkpointing and trimming
/// the tenant's audit chain. Auditors and admins read; only admins delete (retention).
public struct AuditController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/audit/entries") { request, context in try await entries(request, context) }
        router.post("/v1/audit/verify") { request, context in try await verify(request, context) }
        router.post("/v1/audit/checkpoint") { request, context in
            let caller = try await auth.authorize(request, context, .readAudit)
            context.work.describe("audit.checkpoint", "audit", caller.tenant.id)
            guard let checkpoint = try await runtime.audit.checkpoint(tenantID: caller.tenant.id) else {
                throw CofferError(.notFound, "the audit log of this tenant is empty")
            }
            return VaultResponse.data(checkpoint.json, context: context)
        }
        router.get("/v1/audit/checkpoints") { request, context in
            let caller = try await auth.authorize(request, context, .readAudit)
            context.work.describe("audit.checkpoints.read", "audit", caller.tenant.id)
            let checkpoints = try await runtime.audit.store.checkpoints(tenantID: caller.tenant.id)
            return VaultResponse.data(
                ["checkpoints": .array(checkpoints.map(\.json)), "public_key": .string(try runtime.audit.signingPublicKey().hexString)],
                context: context)
        }
        router.post("/v1/audit/retention") { request, context in try await retention(request, context) }
        router.get("/v1/audit/report") { request, context in try await report(request, context) }
        router.post("/v1/sys/audit-hash") { request, context in try await auditHash(request, context) }
        router.post("/v1/sys/audit-hash/**") { request, context in try await auditHash(request, context) }
    }

    static func entryJSON(_ entry: AuditEntry) -> JSONValue {
        var object = JSONValue.parse(entry.canonical)?["record"]?.objectValue ?? [:]
        if let time = object["time"]?.intValue { object["time"] = .string(Timestamp.rfc3339(Int64(time))) }
        object["sequence"] = .int(entry.sequence)
        object["entry_hash"] = .string(entry.entryHash.hexString)
        object["previous_hash"] = .string(entry.previousHash.hexString)
        return .object(object)
    }

    func time(_ request: Request, _ name: String) throws -> Int64? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Timestamp.parse(text) else { throw CofferError(.invalidRequest, "\(name) must be RFC 3339 or milliseconds") }
        return value
    }

    func entries(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAudit)
        context.work.describe("audit.read", "audit", caller.tenant.id)
        let parameters = request.uri.queryParameters
        var query = AuditQuery(since: try time(request, "since"), until: try time(request, "until"))
        query.actorID = parameters.get("actor")
        query.operation = parameters.get("operation")
        query.requestID = parameters.get("request_id")
        switch parameters.get("outcome") {
        case nil: break
        case "success": query.succeeded = true
        case "failure": query.succeeded = false
        default: throw CofferError(.invalidRequest, "outcome must be success or failure")
        }
        if let after = parameters.get("after") {
            guard let value = Int64(after), value >= 0 else { throw CofferError(.invalidRequest, "after must be a sequence number") }
            query.afterSequence = value
        }
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), (1...1000).contains(value) else { throw CofferError(.invalidRequest, "limit must be 1-1000") }
            query.limit = value
        }
        let found = try await runtime.audit.query(tenantID: caller.tenant.id, query)
        var data: [String: JSONValue] = ["entries": .array(found.map(Self.entryJSON))]
        if found.count == query.limit, let last = found.last { data["next_after"] = .int(last.sequence) }
        return VaultResponse.data(.object(data), context: context)
    }

    func verify(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAudit)
        context.work.describe("audit.verify", "audit", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(["checkpoints", "use_stored_checkpoints", "public_key"])
        var checkpoints: [AuditCheckpoint] = []
        if case .array(let items) = object["checkpoints"] ?? .null {
            for item in items {
                guard let checkpoint = AuditCheckpoint(json: item) else { throw CofferError(.invalidRequest, "a checkpoint is malformed") }
                checkpoints.append(checkpoint)
            }
        }
        if object["use_stored_checkpoints"]?.boolValue ?? false {
            checkpoints += try await runtime.audit.store.checkpoints(tenantID: caller.tenant.id)
        }
        var trusted: [UInt8]?
        if let hex = try object.string("public_key") {
            guard let key = [UInt8](hex: hex), key.count == 32 else { throw CofferError(.invalidRequest, "public_key must be 32 bytes of hex") }
            trusted = key
        }
        let result = try await runtime.audit.verify(tenantID: caller.tenant.id, checkpoints: checkpoints, trustedKey: trusted)
        var data: [String: JSONValue] = [
            "ok": .bool(result.ok), "checked": .int(result.checked), "last_sequence": .int(result.lastSequence),
            "head_hash": .string(result.headHash.hexString), "checkpoints_checked": .int(result.checkpointsChecked),
        ]
        if let failure = result.failure {
            data["first_broken_sequence"] = .int(failure.sequence)
            data["reason"] = .string(failure.reason)
        }
        return VaultResponse.data(.object(data), context: context)
    }

    func retention(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAudit)
        context.work.describe("audit.retention", "audit", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(["before"])
        guard let text = try object.string("before") else { throw CofferError(.invalidRequest, "missing before (RFC 3339 date)") }
        let before: Int64
        if let absolute = Timestamp.parse(text) {
            before = absolute
        } else if let age = Timestamp.parseDuration(text) {
            before = runtime.clock.nowMillis - age * 1000
        } else {
            throw CofferError(.invalidRequest, "before must be an RFC 3339 date or an age like 90d")
        }
        guard before <= runtime.clock.nowMillis else { throw CofferError(.invalidRequest, "before must not be in the future") }
        let result = try await runtime.audit.retain(tenantID: caller.tenant.id, before: before, by: caller.actor, requestID: context.requestID)
        return VaultResponse.data(
            ["deleted": .int(result.deleted), "cut_sequence": .int(result.cutSequence), "hash_at_cut": .string(result.hashAtCut.hexString)],
            context: context)
    }

    func report(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAudit)
        context.work.describe("audit.report", "audit", caller.tenant.id)
        let period = request.uri.queryParameters.get("period") ?? "30d"
        guard let seconds = Timestamp.parseDuration(period), seconds > 0 else { throw CofferError(.invalidRequest, "period must be like 30d") }
        let now = runtime.clock.nowMillis
        var report = AuditReport()
        var query = AuditQuery(since: now - seconds * 1000, limit: 1000)
        while true {
            let page = try await runtime.audit.query(tenantID: caller.tenant.id, query)
            for entry in page { if let record = entry.record { report.add(record) } }
            guard page.count == query.limit, let last = page.last else { break }
            query.afterSequence = last.sequence
        }
        var keys: [JSONValue] = []
        for key in try await runtime.storage.keyring.dataKeys(tenantID: caller.tenant.id) {
            let ageDays = (now - key.createdAt) / 86_400_000
            keys.append([
                "type": "data-key", "algorithm": "aes-256-gcm", "version": .int(key.version), "age_days": .int(ageDays),
                "active": .bool(key.version == caller.tenant.activeKeyVersion),
                "rotation_due": .bool(ageDays >= 90 && key.version == caller.tenant.activeKeyVersion),
            ])
        }
        var data = report.json.objectValue ?? [:]
        data["period"] = .string(period)
        data["since"] = .string(Timestamp.rfc3339(now - seconds * 1000))
        data["keys"] = .array(keys)
        return VaultResponse.data(.object(data), context: context)
    }

    func auditHash(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readAudit)
        context.work.describe("audit.hash", "audit", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(["input"])
        guard let input = try object.string("input") else { throw CofferError(.invalidRequest, "missing input") }
        return VaultResponse.data(["hash": .string(try runtime.audit.redactor(tenantID: caller.tenant.id).hash(input))], context: context)
    }
}

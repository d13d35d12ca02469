import CofferCore
import HTTPTypes
import Hummingbird

/// Background re-encryption jobs (`/v1/sys/keyring/jobs`, and `GET /v1/keyring/jobs/<id>`), what still
/// uses a data-key version (`/v1/sys/keyring/usage/<version>`) and the tenant's rotation policy
/// (`/v1/sys/keyring/policy`). Admins of the tenant (`keyring:manage`).
public struct KeyringJobController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 16 * 1024)
    }

    static let jobFields: Set<String> = ["batch_size", "concurrency", "throttle"]
    static let policyFields: Set<String> = ["schedule", "auto_reencrypt", "retain_old_keys", "batch_size", "concurrency", "throttle"]

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.post("/v1/sys/keyring/jobs") { request, context in try await start(request, context) }
        router.get("/v1/sys/keyring/jobs") { request, context in try await list(request, context) }
        router.get("/v1/sys/keyring/jobs/:id") { request, context in try await show(request, context) }
        router.get("/v1/keyring/jobs/:id") { request, context in try await show(request, context) }
        router.post("/v1/sys/keyring/jobs/:id/cancel") { request, context in try await cancel(request, context) }
        router.get("/v1/sys/keyring/usage/:version") { request, context in try await usage(request, context) }
        router.get("/v1/sys/keyring/policy") { request, context in
            let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
            context.work.describe("keyring.policy.read", "keyring", caller.tenant.id)
            return VaultResponse.data(Self.describe(try await runtime.reencryptionJobs.policy(tenant: caller.tenant)), context: context)
        }
        router.post("/v1/sys/keyring/policy") { request, context in try await setPolicy(request, context) }
    }

    func start(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.job.start", "keyring_job", "")
        let object = try await body.object(request, context)
        try object.admit(Self.jobFields)
        let options = try ReencryptionJob.Options(
            batchSize: try object.int("batch_size") ?? 1000, concurrency: try object.int("concurrency") ?? 4,
            rowsPerSecond: try object.int("throttle") ?? 0)
        let job = try await runtime.reencryptionJobs.start(tenant: caller.tenant, options: options, trigger: .manual, in: context.work)
        return VaultResponse.data(Self.describe(job), context: context, status: .accepted)
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.job.list", "keyring_job", "")
        let limit = try Self.limit(request, default: 20, maximum: 100)
        let jobs = try await runtime.reencryptionJobs.list(tenant: caller.tenant, limit: limit)
        return VaultResponse.data(["jobs": .array(jobs.map(Self.describe))], context: context)
    }

    func show(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        let id = context.parameters.get("id") ?? ""
        context.work.describe("keyring.job.read", "keyring_job", String(id.prefix(64)))
        return VaultResponse.data(Self.describe(try await runtime.reencryptionJobs.job(tenant: caller.tenant, id: id)), context: context)
    }

    func cancel(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        let id = context.parameters.get("id") ?? ""
        context.work.describe("keyring.job.cancel", "keyring_job", String(id.prefix(64)))
        return VaultResponse.data(
            Self.describe(try await runtime.reencryptionJobs.cancel(tenant: caller.tenant, id: id, in: context.work)), context: context)
    }

    func usage(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.usage", "keyring", caller.tenant.id)
        guard let text = context.parameters.get("version"), text.utf8.count <= 9, let version = Int(text), version > 0 else {
            throw CofferError(.invalidRequest, "the key version must be a positive integer")
        }
        let limit = try Self.limit(request, default: 100, maximum: 1000)
        let found = try await runtime.reencryptionJobs.usage(tenant: caller.tenant, version: version, limit: limit)
        return VaultResponse.data(
            [
                "key_version": .int(version), "active_version": .int(caller.tenant.activeKeyVersion), "in_use": .bool(!found.isUnused),
                "summary": .string(found.summary), "kv_versions": .int(found.kvVersions),
                "kv": .array(found.kvSample.map { ["mount": .string($0.mount), "path": .string($0.path), "version": .int($0.version)] }),
                "transit_keys": .strings(found.transitKeys), "gateway_assets": .strings(found.assets),
                "managed_gateway_keys": .strings(found.managedKeys), "wrapped_responses": .int(found.wrappedResponses),
            ], context: context)
    }

    func setPolicy(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.policy", "keyring", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(Self.policyFields)
        var change = RotationPolicy.Change(
            autoReencrypt: try object.bool("auto_reencrypt"), batchSize: try object.int("batch_size"), concurrency: try object.int("concurrency"),
            rowsPerSecond: try object.int("throttle"))
        if object["schedule"] != nil {
            let text = try object.string("schedule") ?? ""
            change.schedule = .some(text.isEmpty ? nil : try CronSchedule(text))
        }
        if object["retain_old_keys"] != nil {
            // null or -1 keeps every version; anything else below 0 is refused with the range.
            let retain = try object.int("retain_old_keys")
            change.retainOldKeys = .some(retain == -1 ? nil : retain)
        }
        let saved = try await runtime.reencryptionJobs.updatePolicy(tenant: caller.tenant, change, in: context.work)
        return VaultResponse.data(Self.describe(saved), context: context)
    }

    static func limit(_ request: Request, default value: Int, maximum: Int) throws(CofferError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return value }
        guard text.utf8.count <= 6, let number = Int(text), (1...maximum).contains(number) else {
            throw CofferError(.invalidRequest, "limit must be 1-\(maximum)")
        }
        return number
    }

    static func describe(_ job: ReencryptionJob) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(job.id), "state": .string(job.state.rawValue), "trigger": .string(job.trigger.rawValue),
            "target_version": .int(job.targetVersion), "total": .int(job.total), "done": .int(job.done),
            "remaining": .int(max(0, job.total - job.done)),
            "percent": JSONNumber((job.percent * 10).rounded() / 10).map(JSONValue.number) ?? .int(0),
            "rows_per_second": .int(Int(job.rate.rounded())),
            "batch_size": .int(job.options.batchSize), "concurrency": .int(job.options.concurrency), "throttle": .int(job.options.rowsPerSecond),
            "transit_keys_resealed": .int(job.transitKeysResealed), "assets_resealed": .int(job.assetsResealed),
            "destroyed_versions": .array(job.destroyedVersions.map { .int($0) }), "kept_versions": .strings(job.keptVersions),
            "created_time": .string(Timestamp.rfc3339(job.createdAt)), "updated_time": .string(Timestamp.rfc3339(job.updatedAt)),
            "finished_time": job.finishedAt.map { .string(Timestamp.rfc3339($0)) } ?? .null, "error": job.error.map(JSONValue.string) ?? .null,
        ]
        object["eta_seconds"] = job.etaSeconds.map { .int(Int($0.rounded(.up))) } ?? .null
        return .object(object)
    }

    static func describe(_ policy: RotationPolicy) -> JSONValue {
        [
            "schedule": policy.schedule.map { .string($0.text) } ?? .null, "auto_reencrypt": .bool(policy.autoReencrypt),
            "retain_old_keys": policy.retainOldKeys.map { .int($0) } ?? .null, "batch_size": .int(policy.options.batchSize),
            "concurrency": .int(policy.options.concurrency), "throttle": .int(policy.options.rowsPerSecond),
            "next_run_time": policy.nextRunAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "last_run_time": policy.lastRunAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
        ]
    }
}

import CofferCore
import HTTPTypes
import Hummingbird

/// `/v1/sys/keyring`: the tenant's data-key versions, rotation, resumable re-encryption and rollback (admins).
public struct KeyringController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/sys/keyring") { request, context in try await status(request, context) }
        router.post("/v1/sys/keyring/rotate") { request, context in
            let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
            context.work.describe("keyring.rotate", "keyring", caller.tenant.id, ["algorithm": "aes-256-gcm"])
            let version = try await runtime.keyring.rotateDataKey(tenantID: caller.tenant.id, in: context.work)
            return VaultResponse.data(["active_version": .int(version)], context: context)
        }
        router.post("/v1/sys/keyring/reencrypt") { request, context in try await reencrypt(request, context) }
        router.get("/v1/sys/keyring/verify") { request, context in try await verify(request, context) }
        router.post("/v1/sys/keyring/rollback") { request, context in try await rollback(request, context) }
    }

    func status(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.read", "keyring", caller.tenant.id)
        var versions: [JSONValue] = []
        for key in try await runtime.storage.keyring.dataKeys(tenantID: caller.tenant.id) {
            let count = try await runtime.storage.secrets.countVersions(tenantID: caller.tenant.id, keyVersion: key.version)
            versions.append([
                "version": .int(key.version), "root_version": .int(key.rootVersion), "created_time": .string(Timestamp.rfc3339(key.createdAt)),
                "secrets": .int(count),
            ])
        }
        return VaultResponse.data(
            [
                "active_version": .int(caller.tenant.activeKeyVersion), "root_version": .int(runtime.keyring.rootVersion),
                "versions": .array(versions),
            ],
            context: context)
    }

    /// Every tenant's keyring against its authenticated state and the data it protects. The report names
    /// tenants, so only admins of the system tenant may read it.
    func verify(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageTenants)
        context.work.describe("keyring.verify", "keyring", "")
        guard caller.tenant.isSystem else { throw CofferError(.permissionDenied, "only admins of the system tenant verify the whole keyring") }
        let report = try await runtime.keyring.verify()
        return VaultResponse.data(
            [
                "ok": .bool(report.ok), "tenants": .int(report.tenants), "data_keys": .int(report.dataKeys),
                "problems": .strings(report.problems),
            ], context: context)
    }

    func reencrypt(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.reencrypt", "keyring", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(["batch_size", "max_batches"])
        let progress = try await runtime.reencryption.run(
            tenant: caller.tenant, batchSize: try object.int("batch_size") ?? 100,
            maxBatches: try object.int("max_batches") ?? ReencryptionService.maximumBatches, in: context.work)
        return VaultResponse.data(
            [
                "reencrypted": .int(progress.reencrypted), "batches": .int(progress.batches), "remaining": .int(progress.remaining),
                "transit_keys_resealed": .int(progress.transitKeysResealed),
                "assets_resealed": .int(progress.assetsResealed),
                "active_version": .int(caller.tenant.activeKeyVersion),
            ],
            context: context)
    }

    func rollback(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        context.work.describe("keyring.rollback", "keyring", caller.tenant.id)
        let object = try await body.object(request, context)
        try object.admit(["to_version", "reason"])
        guard let version = try object.int("to_version"), version > 0 else { throw CofferError(.invalidRequest, "missing to_version") }
        guard let reason = try object.string("reason"), !reason.isEmpty else {
            throw CofferError(.invalidRequest, "a reason is required for a key rollback")
        }
        let known = try await runtime.storage.keyring.dataKeys(tenantID: caller.tenant.id).map(\.version)
        guard known.contains(version) else { throw CofferError(.invalidRequest, "no data-key version \(version) in this tenant") }
        try await runtime.keyring.activate(tenantID: caller.tenant.id, version: version, in: context.work)
        return VaultResponse.data(["active_version": .int(version), "reason": .string(reason)], context: context)
    }
}

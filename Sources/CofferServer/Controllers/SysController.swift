import CofferCore
import HTTPTypes
import Hummingbird

/// `/v1/sys/health` (GET and HEAD), `/v1/sys/init`, `/v1/sys/seal-status` and `/v1/sys/unseal`,
/// unauthenticated as in Vault, and `/v1/sys/seal` (admins of the system tenant).
public struct SysController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    /// Coffer's version string.
    public static let version = "0.1.0"

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 64 * 1024)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/sys/health") { _, context in try await health(context, head: false) }
        router.head("/v1/sys/health") { _, context in try await health(context, head: true) }
        router.get("/v1/sys/init") { _, _ in
            VaultResponse.json(["initialized": .bool(try await isInitialized())], status: .ok)
        }
        router.get("/v1/sys/seal-status") { _, _ in try await sealStatus() }
        for method in [HTTPRequest.Method.put, .post] {
            router.on("/v1/sys/seal", method: method) { request, context in try await seal(request, context) }
            router.on("/v1/sys/unseal", method: method) { request, context in try await unseal(request, context) }
        }
    }

    /// Vault's seal-status shape; Coffer's seal has one key share (the root key material).
    func sealStatus() async throws -> Response {
        let initialized = try await isInitialized()
        return VaultResponse.json(
            [
                "type": "coffer-root-key", "initialized": .bool(initialized), "sealed": .bool(runtime.keyring.isSealed), "t": 1, "n": 1,
                "progress": 0, "nonce": "", "version": .string(Self.version), "migration": false, "recovery_seal": false,
                "storage_type": .string(runtime.storageType), "cluster_name": "coffer", "build_date": "",
            ], status: .ok)
    }

    /// `PUT /v1/sys/seal`: admins of the system tenant seal this instance.
    func seal(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await runtime.authenticator.authorize(request, context, .manageKeyring)
        guard caller.tenant.isSystem, caller.isAdmin else {
            throw CofferError(.permissionDenied, "only admins of the system tenant seal the server")
        }
        context.work.describe("sys.seal", "server", "")
        await runtime.seal()
        return VaultResponse.noContent()
    }

    /// `PUT /v1/sys/unseal {key, reset?, migrate?}`: the root key (base64) or passphrase the server was
    /// started with. Answers the seal status; `ROOT_KEY_INVALID` (503, Vault's status for a bad key is
    /// 400: Coffer answers 400 too) when the key does not match.
    func unseal(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        try await runtime.authenticator.limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
        let object = try await body.object(request, context, recording: false)
        try object.admit(["key", "reset", "migrate"])
        if try object.bool("migrate") == true { throw CofferError(.invalidRequest, "migrate: Coffer has no seal migration") }
        if try object.bool("reset") == true { return try await sealStatus() }
        guard let key = try object.string("key"), !key.isEmpty else { throw CofferError(.invalidRequest, "missing key") }
        guard runtime.keyring.isSealed else { return try await sealStatus() }
        do {
            try await runtime.unseal(key: key)
        } catch let error as CofferError where error.code == .rootKeyInvalid {
            throw CofferError(.invalidRequest, "the unseal key does not match this server's root key")
        }
        if let system = try await runtime.storage.tenants.systemTenant() {
            try runtime.authenticator.identify(system, .anonymous, operation: "sys.unseal", in: context.work)
            context.work.describe("sys.unseal", "server", "")
        }
        return try await sealStatus()
    }

    func isInitialized() async throws -> Bool {
        try await runtime.storage.tenants.systemTenant() != nil
    }

    func health(_ context: CofferRequestContext, head: Bool) async throws -> Response {
        let initialized = try await isInitialized()
        let sealed = runtime.keyring.isSealed
        // Vault: 200 when initialised and unsealed, 503 when sealed, 501 when not initialised.
        let status: HTTPResponse.Status = !initialized ? .notImplemented : (sealed ? .serviceUnavailable : .ok)
        if head { return Response(status: status) }
        return VaultResponse.json(
            [
                "initialized": .bool(initialized), "sealed": .bool(sealed), "standby": false, "performance_standby": false,
                "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                "server_time_utc": .int(runtime.clock.nowMillis / 1000), "version": .string(Self.version),
                "cluster_name": "coffer", "dev_mode": .bool(runtime.configuration.devMode),
            ], status: status)
    }
}

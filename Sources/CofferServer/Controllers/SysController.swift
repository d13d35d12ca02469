import CofferCore
import HTTPTypes
import Hummingbird

/// `/v1/sys/health` (GET and HEAD), `/v1/sys/init` and `/v1/sys/seal-status`, unauthenticated as in Vault.
public struct SysController: Sendable {
    let runtime: CofferRuntime
    /// Coffer's version string.
    public static let version = "0.1.0"

    /// Creates the controller.
    public init(runtime: CofferRuntime) { self.runtime = runtime }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/sys/health") { _, context in try await health(context, head: false) }
        router.head("/v1/sys/health") { _, context in try await health(context, head: true) }
        router.get("/v1/sys/init") { _, _ in
            VaultResponse.json(["initialized": .bool(try await isInitialized())], status: .ok)
        }
        router.get("/v1/sys/seal-status") { _, context in
            let initialized = try await isInitialized()
            return VaultResponse.json(
                [
                    "type": "coffer-root-key", "initialized": .bool(initialized), "sealed": false, "t": 0, "n": 0, "progress": 0,
                    "nonce": "", "version": .string(Self.version), "migration": false, "recovery_seal": false,
                    "storage_type": .string(runtime.storageType), "cluster_name": "coffer",
                ], status: .ok)
        }
    }

    func isInitialized() async throws -> Bool {
        try await runtime.storage.tenants.systemTenant() != nil
    }

    func health(_ context: CofferRequestContext, head: Bool) async throws -> Response {
        let initialized = try await isInitialized()
        // Vault: 200 when initialised and unsealed, 501 when not initialised.
        let status: HTTPResponse.Status = initialized ? .ok : .notImplemented
        if head { return Response(status: status) }
        return VaultResponse.json(
            [
                "initialized": .bool(initialized), "sealed": false, "standby": false, "performance_standby": false,
                "replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
                "server_time_utc": .int(runtime.clock.nowMillis / 1000), "version": .string(Self.version),
                "cluster_name": "coffer", "dev_mode": .bool(runtime.configuration.devMode),
            ], status: status)
    }
}

/// Moves a tenant's stored data onto its active data key after a rotation: KV versions in batches, then
/// transit keys. Resumable (each batch commits on its own; running it again continues), and bounded:
/// one call does at most `maxBatches` batches and reports what remains, so no single request runs
/// without limit. The CLI calls it until nothing remains, printing progress.
public struct ReencryptionService: Sendable {
    /// What one run did and what is left.
    public struct Progress: Sendable, Equatable {
        /// KV versions re-encrypted in this run.
        public var reencrypted: Int
        /// Batches run.
        public var batches: Int
        /// KV versions still sealed under older data keys.
        public var remaining: Int
        /// Transit keys re-sealed in this run.
        public var transitKeysResealed: Int
        /// Gateway assets re-sealed in this run.
        public var assetsResealed = 0
    }

    /// Most batches one call runs.
    public static let maximumBatches = 100

    private let secrets: SecretService
    private let transit: TransitService
    private let assets: GatewayAssetService
    private let store: any SecretStore
    private let keyring: any KeyringStore

    /// Creates the service.
    public init(secrets: SecretService, transit: TransitService, assets: GatewayAssetService, store: any SecretStore, keyring: any KeyringStore) {
        self.secrets = secrets
        self.transit = transit
        self.assets = assets
        self.store = store
        self.keyring = keyring
    }

    /// Runs up to `maxBatches` batches of `batchSize` versions (`INVALID_REQUEST` outside 1-10000 and
    /// 1-``maximumBatches``), then re-seals transit keys and gateway assets once the KV versions are done.
    public func run(tenant: Tenant, batchSize: Int, maxBatches: Int, in work: UnitOfWork) async throws -> Progress {
        guard (1...10_000).contains(batchSize), (1...Self.maximumBatches).contains(maxBatches) else {
            throw CofferError(.invalidRequest, "batch_size must be 1-10000 and max_batches 1-\(Self.maximumBatches)")
        }
        var progress = Progress(reencrypted: 0, batches: 0, remaining: 0, transitKeysResealed: 0)
        while progress.batches < maxBatches {
            let done = try await secrets.reencryptBatch(tenant: tenant, batchSize: batchSize, in: work)
            if done == 0 { break }
            progress.reencrypted += done
            progress.batches += 1
        }
        for key in try await keyring.dataKeys(tenantID: tenant.id) where key.version < tenant.activeKeyVersion {
            progress.remaining += try await store.countVersions(tenantID: tenant.id, keyVersion: key.version)
        }
        if progress.remaining == 0 {
            progress.transitKeysResealed = try await transit.resealAll(tenant: tenant, in: work)
            // Assets are few and bounded in size: one batch per call, the rest counted as remaining.
            progress.assetsResealed = try await assets.reseal(tenant: tenant, limit: batchSize, in: work)
            progress.remaining += try await assets.sealedBefore(tenant: tenant)
        }
        return progress
    }
}

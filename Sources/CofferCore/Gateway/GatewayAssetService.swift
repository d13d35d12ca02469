/// Gateway projects' public assets: uploads sealed with the tenant's data key (bound by their AAD to
/// the tenant, project, name, type and token requirement), served with their digest, optionally only
/// through expiring URLs.
public struct GatewayAssetService: Sendable {
    private let store: any GatewayStore
    private let keyring: Keyring
    private let clock: any CofferClock

    /// Creates the service.
    public init(store: any GatewayStore, keyring: Keyring, clock: any CofferClock) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
    }

    /// An upload.
    public struct Upload: Sendable {
        /// The content.
        public var content: [UInt8]
        /// The content type asked for (`nil`: from the name's extension).
        public var contentType: String?
        /// Whether only expiring URLs open it.
        public var requireToken: Bool

        /// Creates an upload.
        public init(content: [UInt8], contentType: String?, requireToken: Bool) {
            self.content = content
            self.contentType = contentType
            self.requireToken = requireToken
        }
    }

    /// Stores (or replaces) asset `name` of `project`, which must exist; returns its description.
    public func put(tenant: Tenant, project: String, name: String, _ upload: Upload, in work: UnitOfWork) async throws -> GatewayAsset {
        guard GatewayAsset.isValidName(name) else {
            throw CofferError(.invalidRequest, "asset names are 1-128 of A-Z a-z 0-9 - _ . and do not start with a dot")
        }
        guard upload.content.count <= GatewayAsset.maximumBytes else {
            throw CofferError(.payloadTooLarge, "an asset may hold at most \(GatewayAsset.maximumBytes) bytes")
        }
        guard !upload.content.isEmpty else { throw CofferError(.invalidRequest, "an asset cannot be empty") }
        let contentType = try GatewayAsset.contentType(given: upload.contentType, name: name)
        try await requireProject(tenant: tenant, project)
        let now = clock.nowMillis
        let existing = try await store.asset(tenantID: tenant.id, project: project, name: name)
        let asset = GatewayAsset.describing(
            upload.content, name: name, contentType: contentType, requireToken: upload.requireToken, createdAt: existing?.0.createdAt ?? now,
            updatedAt: now)
        let key = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        let sealed = try SealedBox.seal(upload.content, key: key.key, keyVersion: key.version, aad: Self.aad(tenant: tenant, project, asset))
        let existed = try await store.putAsset(tenantID: tenant.id, project: project, asset, sealed: sealed, in: work)
        work.addDetails(["created": "\(!existed)", "size": String(asset.size), "sha256": asset.sha256Hex, "require_token": "\(asset.requireToken)"])
        return asset
    }

    /// An asset's description, or `NOT_FOUND`.
    public func describe(tenant: Tenant, project: String, name: String) async throws -> GatewayAsset {
        try await load(tenant: tenant, project: project, name: name).0
    }

    /// A project's assets.
    public func list(tenant: Tenant, project: String) async throws -> [GatewayAsset] {
        try await requireProject(tenant: tenant, project)
        return try await store.assets(tenantID: tenant.id, project: project)
    }

    /// Deletes an asset, or `NOT_FOUND`.
    public func delete(tenant: Tenant, project: String, name: String, in work: UnitOfWork) async throws {
        guard GatewayAsset.isValidName(name), try await store.deleteAsset(tenantID: tenant.id, project: project, name: name, in: work) else {
            throw CofferError(.notFound, "no asset of this name in this project")
        }
    }

    /// An expiring URL token for an asset, valid for `seconds` (1 s to 7 days).
    public func issueToken(tenant: Tenant, project: String, name: String, seconds: Int64) async throws -> AssetURLToken {
        guard (1...AssetURLToken.maximumSeconds).contains(seconds) else {
            throw CofferError(.invalidRequest, "ttl must be between 1s and \(AssetURLToken.maximumSeconds / 3600)h")
        }
        _ = try await load(tenant: tenant, project: project, name: name)
        let key = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        return AssetURLToken.issue(tenantID: tenant.id, project: project, asset: name, expiresAt: clock.nowMillis / 1000 + seconds, key: key)
    }

    /// The content of an asset for a public fetch: `NOT_FOUND` when there is none; when a token is
    /// given (or the asset requires one) it must be valid for this asset now.
    public func fetch(tenant: Tenant, project: String, name: String, token: String?) async throws -> (GatewayAsset, [UInt8]) {
        let (asset, sealed) = try await load(tenant: tenant, project: project, name: name)
        if let token {
            guard let parsed = AssetURLToken.parse(token) else {
                throw CofferError(.assetTokenInvalid, "this asset URL's token is not valid for this asset")
            }
            let key = try? await keyring.dataKey(tenantID: tenant.id, version: parsed.keyVersion)
            try parsed.verify(tenantID: tenant.id, project: project, asset: name, now: clock.nowMillis / 1000, key: key)
        } else if asset.requireToken {
            throw CofferError(.assetTokenInvalid, "this asset is served only through an expiring URL (?token=…)")
        }
        return (asset, try await open(tenant: tenant, project: project, asset, sealed))
    }

    /// Re-seals up to `limit` assets sealed under older data keys with the active one; returns how many.
    public func reseal(tenant: Tenant, limit: Int, in work: UnitOfWork) async throws -> Int {
        var count = 0
        for (project, name) in try await store.assetsSealedBefore(tenantID: tenant.id, keyVersion: tenant.activeKeyVersion, limit: limit) {
            guard let (asset, sealed) = try await store.asset(tenantID: tenant.id, project: project, name: name) else { continue }
            let content = try await open(tenant: tenant, project: project, asset, sealed)
            let key = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
            let resealed = try SealedBox.seal(content, key: key.key, keyVersion: key.version, aad: Self.aad(tenant: tenant, project, asset))
            if try await store.resealAsset(tenantID: tenant.id, project: project, name: name, expected: sealed, sealed: resealed, in: work) {
                count += 1
            }
        }
        return count
    }

    /// How many of a tenant's assets are still sealed under older data keys.
    public func sealedBefore(tenant: Tenant) async throws -> Int {
        try await store.assetsSealedBefore(tenantID: tenant.id, keyVersion: tenant.activeKeyVersion, limit: 1_000_000).count
    }

    // MARK: - Helpers

    private func requireProject(tenant: Tenant, _ project: String) async throws {
        guard TransitKey.isValidName(project), try await store.project(tenantID: tenant.id, name: project) != nil else {
            throw CofferError(.notFound, "no gateway project of this name")
        }
    }

    private func load(tenant: Tenant, project: String, name: String) async throws -> (GatewayAsset, [UInt8]) {
        guard GatewayAsset.isValidName(name), TransitKey.isValidName(project),
            let found = try await store.asset(tenantID: tenant.id, project: project, name: name)
        else { throw CofferError(.notFound, "no asset of this name in this project") }
        return found
    }

    /// Opens sealed content and checks it against its recorded digest; anything else is `STORAGE_CORRUPT`.
    private func open(tenant: Tenant, project: String, _ asset: GatewayAsset, _ sealed: [UInt8]) async throws -> [UInt8] {
        guard let version = SealedBox.keyVersion(of: sealed) else {
            throw CofferError(.storageCorrupt, "the stored asset '\(asset.name)' is not one this version wrote")
        }
        let key = try await keyring.dataKey(tenantID: tenant.id, version: version)
        let content: [UInt8]
        do {
            content = try SealedBox.open(sealed, aad: Self.aad(tenant: tenant, project, asset)) { _ throws(CofferError) in key.key }
        } catch {
            throw CofferError(.storageCorrupt, "the stored asset '\(asset.name)' does not authenticate (altered in storage)")
        }
        guard
            GatewayAsset.describing(
                content, name: asset.name, contentType: asset.contentType, requireToken: asset.requireToken, createdAt: 0, updatedAt: 0
            ).sha256
                == asset.sha256, content.count == asset.size
        else {
            throw CofferError(.storageCorrupt, "the stored asset '\(asset.name)' does not match its recorded digest")
        }
        return content
    }

    static func aad(tenant: Tenant, _ project: String, _ asset: GatewayAsset) -> AssociatedData {
        AssociatedData(
            purpose: "gateway-asset", fields: [tenant.id, project, asset.name, asset.contentType, asset.requireToken ? "token" : "public"])
    }
}

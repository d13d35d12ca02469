/// A project's managed publishable key: issued on first request, replaced when due (the previous key
/// keeps working for the overlap), replaced at once when it is suspended for anomalous behaviour, and
/// revoked with its project. The key is an ordinary `pk_` API key with scope `proxy:call:<project>`
/// that expires by itself one overlap after it is due, so a key nobody asks about does not live on.
public struct GatewayKeyService: Sendable {
    private let store: any GatewayStore
    private let apiKeys: APIKeyService
    private let keyring: Keyring
    private let clock: any CofferClock

    /// Creates the service.
    public init(store: any GatewayStore, apiKeys: APIKeyService, keyring: Keyring, clock: any CofferClock) {
        self.store = store
        self.apiKeys = apiKeys
        self.keyring = keyring
        self.clock = clock
    }

    /// The current key, what it is and when it is replaced.
    public struct Current: Sendable {
        /// The `pk_` key.
        public var key: String
        /// Its API-key id.
        public var keyID: String
        /// When it is replaced (ms).
        public var rotatesAt: Int64
        /// When it stops working if it is not replaced earlier (ms).
        public var expiresAt: Int64
    }

    /// The project's current key, issuing or replacing it first when none exists or it is due.
    /// `NOT_FOUND` when the project manages no publishable key.
    public func current(tenant: Tenant, project: GatewayProject, in work: UnitOfWork) async throws -> Current {
        guard let policy = project.publishableKey else {
            throw CofferError(.notFound, "the project '\(project.name)' has no managed publishable key (set publishable_key)")
        }
        let now = clock.nowMillis
        for _ in 0..<3 {
            let stored = try await store.managedKey(tenantID: tenant.id, project: project.name)
            if let stored, stored.rotatesAt > now {
                return Current(
                    key: try await open(tenant: tenant, project: project.name, stored), keyID: stored.keyID, rotatesAt: stored.rotatesAt,
                    expiresAt: stored.rotatesAt + policy.overlapMillis)
            }
            if let issued = try await replace(
                tenant: tenant, project: project, policy: policy, stored: stored, overlapMillis: policy.overlapMillis, in: work)
            {
                return issued
            }
            // Another instance replaced it first: read theirs.
        }
        throw CofferError(.storageUnavailable, "the managed publishable key kept changing while it was read; try again")
    }

    /// Replaces the key now; the previous one keeps working for `overlapMillis` (0: it stops now).
    @discardableResult
    public func rotate(tenant: Tenant, project: GatewayProject, overlapMillis: Int64, in work: UnitOfWork) async throws -> Current {
        guard let policy = project.publishableKey else {
            throw CofferError(.notFound, "the project '\(project.name)' has no managed publishable key (set publishable_key)")
        }
        for _ in 0..<3 {
            let stored = try await store.managedKey(tenantID: tenant.id, project: project.name)
            if let issued = try await replace(
                tenant: tenant, project: project, policy: policy, stored: stored, overlapMillis: overlapMillis, in: work)
            {
                return issued
            }
        }
        throw CofferError(.storageUnavailable, "the managed publishable key kept changing while it was rotated; try again")
    }

    /// Whether `keyID` is the project's managed key now.
    public func isManaged(tenant: Tenant, project: String, keyID: String) async throws -> Bool {
        try await store.managedKey(tenantID: tenant.id, project: project)?.keyID == keyID
    }

    /// Issues a new key and records it in place of `stored`; the old key is cut to `overlapMillis`
    /// from now. Returns `nil` when another instance replaced `stored` first (the new key is revoked).
    private func replace(
        tenant: Tenant, project: GatewayProject, policy: PublishableKeyPolicy, stored: ManagedKeyRecord?, overlapMillis: Int64, in work: UnitOfWork
    ) async throws -> Current? {
        let now = clock.nowMillis
        let rotatesAt = now + policy.rotateMillis
        let settings = APIKeyService.Settings(
            name: "gateway \(project.name) (managed)", scopes: ["proxy:call:\(project.name)"], expiresAt: .some(rotatesAt + policy.overlapMillis),
            metadata: ["managed_by": "gateway", "project": project.name])
        let (key, record) = try await apiKeys.create(
            tenant: tenant, settings: settings, admin: false, publishable: true, grantor: .role(.admin), in: work)
        let sealedKey = try await seal(tenant: tenant, project: project.name, keyID: record.id, key: key)
        let written = try await store.putManagedKey(
            tenantID: tenant.id, project: project.name, ManagedKeyRecord(keyID: record.id, sealed: sealedKey, rotatesAt: rotatesAt),
            replacing: stored?.keyID, in: work)
        guard written else {
            _ = try? await apiKeys.revoke(
                id: record.id, tenantID: tenant.id, reason: "lost a rotation race", by: "coffer gateway", grantor: .role(.admin), in: work)
            return nil
        }
        if let stored, let old = try? await apiKeys.get(id: stored.keyID, tenantID: tenant.id), old.revokedAt == nil {
            if overlapMillis == 0 {
                _ = try? await apiKeys.revoke(
                    id: old.id, tenantID: tenant.id, reason: "replaced at once", by: "coffer gateway", grantor: .role(.admin), in: work)
            } else if (old.expiresAt ?? .max) > now + overlapMillis {
                _ = try? await apiKeys.update(
                    id: old.id, tenantID: tenant.id, settings: APIKeyService.Settings(expiresAt: .some(now + overlapMillis)), grantor: .role(.admin),
                    in: work)
            }
        }
        work.addDetails(["managed_key": record.id, "replaced_key": stored?.keyID ?? ""])
        return Current(key: key, keyID: record.id, rotatesAt: rotatesAt, expiresAt: rotatesAt + policy.overlapMillis)
    }

    private func seal(tenant: Tenant, project: String, keyID: String, key: String) async throws -> [UInt8] {
        let dataKey = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        return try SealedBox.seal(Array(key.utf8), key: dataKey.key, keyVersion: dataKey.version, aad: Self.aad(tenant, project, keyID))
    }

    private func open(tenant: Tenant, project: String, _ record: ManagedKeyRecord) async throws -> String {
        guard let version = SealedBox.keyVersion(of: record.sealed) else {
            throw CofferError(.storageCorrupt, "the stored managed key of '\(project)' is not one this version wrote")
        }
        let dataKey = try await keyring.dataKey(tenantID: tenant.id, version: version)
        do {
            let bytes = try SealedBox.open(record.sealed, aad: Self.aad(tenant, project, record.keyID)) { _ throws(CofferError) in dataKey.key }
            return String(decoding: bytes, as: UTF8.self)
        } catch {
            throw CofferError(.storageCorrupt, "the stored managed key of '\(project)' does not authenticate (altered in storage)")
        }
    }

    static func aad(_ tenant: Tenant, _ project: String, _ keyID: String) -> AssociatedData {
        AssociatedData(purpose: "gateway-managed-key", fields: [tenant.id, project, keyID])
    }
}

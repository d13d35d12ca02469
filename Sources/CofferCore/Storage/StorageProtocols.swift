/// Persistence of tenants and their wrapped data keys.
public protocol TenantStore: Sendable {
    /// Inserts a tenant together with its first wrapped data key and its authenticated keyring state
    /// (`nil` only in storage-level tests), atomically. Throws `TENANT_EXISTS` if the name is taken.
    func createTenant(_ tenant: Tenant, firstKey: WrappedDataKey, state: KeyringState?, in work: UnitOfWork) async throws
    /// The tenant with this id.
    func tenant(id: String) async throws -> Tenant?
    /// The tenant with this name.
    func tenant(named name: String) async throws -> Tenant?
    /// All tenants by name.
    func listTenants() async throws -> [Tenant]
    /// The system tenant created at initialisation; `nil` while Coffer is not initialised.
    func systemTenant() async throws -> Tenant?
}

/// Persistence of the keyring: root-key records, system keys and tenant data keys.
public protocol KeyringStore: Sendable {
    /// All root-key records.
    func rootKeyRecords() async throws -> [RootKeyRecord]
    /// Records a root key and makes it the only active one; stores `systemKeys` (name → wrapped) with it.
    func installRootKey(_ record: RootKeyRecord, systemKeys: [String: [UInt8]]) async throws
    /// Rotates the root key in one transaction: records `record` as the only active version and
    /// replaces every system key, every tenant data key and every keyring state with the given forms.
    func rotateRootKey(_ record: RootKeyRecord, systemKeys: [String: [UInt8]], dataKeys: [WrappedDataKey], states: [KeyringState]) async throws
    /// Every tenant's data keys.
    func allDataKeys() async throws -> [WrappedDataKey]
    /// Stores a wrapped system key unless one with that name exists (several instances may race).
    func insertSystemKeyIfAbsent(name: String, rootVersion: Int, wrapped: [UInt8]) async throws
    /// Names of all system keys.
    func systemKeyNames() async throws -> [String]
    /// A wrapped system key by name.
    func systemKey(named name: String) async throws -> (rootVersion: Int, wrapped: [UInt8])?
    /// All data keys of a tenant.
    func dataKeys(tenantID: String) async throws -> [WrappedDataKey]
    /// Adds a data key and makes it the tenant's active version, with the tenant's new keyring state
    /// (`nil` only in storage-level tests). Refused (`KEY_VERSION_UNKNOWN`) unless it is wrapped by the
    /// active root-key version; refused (`KEYRING_INVALID`) if the stored state is no longer the one
    /// `state` follows (another instance changed the keyring meanwhile).
    func addDataKey(_ key: WrappedDataKey, state: KeyringState?, in work: UnitOfWork) async throws
    /// Points the tenant's active version at an existing data key, with the tenant's new keyring state.
    func setActiveDataKey(tenantID: String, version: Int, state: KeyringState?, in work: UnitOfWork) async throws
    /// Every tenant's stored keyring state.
    func keyringStates() async throws -> [KeyringState]
    /// Whether this store keeps keyring states (`false` only for a store made before they existed).
    func keyringStatesAdopted() async throws -> Bool
    /// Writes first states for every tenant of a store made before states existed, and marks it adopted.
    func adoptKeyringStates(_ states: [KeyringState]) async throws
    /// The data-key versions stored data is sealed under (KV versions not destroyed, transit keys), by tenant id.
    func referencedKeyVersions() async throws -> [String: Set<Int>]
    /// What of a tenant's data is sealed under data-key `version` (`limit` KV versions named at most).
    func keyVersionUsage(tenantID: String, version: Int, limit: Int) async throws -> KeyVersionUsage
    /// Deletes data-key `version` with the tenant's new keyring state, in one transaction that first
    /// checks again that no KV version, gateway asset or wrapped response uses it; false (nothing
    /// changed) when one does.
    func removeDataKey(tenantID: String, version: Int, state: KeyringState, in work: UnitOfWork) async throws -> Bool
}

/// Persistence of access tokens (as keyed hashes).
public protocol TokenStore: Sendable {
    /// Inserts a token record.
    func insertToken(_ token: TokenRecord, in work: UnitOfWork) async throws
    /// Live tokens of a tenant that cannot outlive `before`: not renewable with an expiry in
    /// (`now`, `before`], or with an explicit maximum there (at most `limit`).
    func tokensEnding(tenantID: String, now: Int64, before: Int64, limit: Int) async throws -> [TokenRecord]
    /// The token with this keyed hash.
    func token(hash: [UInt8]) async throws -> TokenRecord?
    /// The token with this accessor in a tenant.
    func token(accessor: String, tenantID: String) async throws -> TokenRecord?
    /// Marks a token revoked together with every token it created, transitively (children are never
    /// orphaned by a revocation). Returns the accessors that this call revoked (empty if none was live).
    func revokeToken(accessor: String, tenantID: String, at time: Int64, in work: UnitOfWork) async throws -> [String]
    /// Moves a live renewable token's expiry from `expected` to `expiresAt`; `false` if it changed
    /// meanwhile, is revoked or is not renewable.
    func renewToken(accessor: String, tenantID: String, from expected: Int64?, to expiresAt: Int64, in work: UnitOfWork) async throws -> Bool
    /// Revokes one token and makes its direct children orphans (Vault's `revoke-orphan`). Returns the
    /// accessor if it was live.
    func revokeTokenOrphaningChildren(accessor: String, tenantID: String, at time: Int64, in work: UnitOfWork) async throws -> [String]
    /// Revokes every live token that a login through the auth method at `mount` made — only those of
    /// `role` and/or `subject` when given — and every token they created. Returns the accessors revoked.
    func revokeSessions(
        tenantID: String, mount: String, role: String?, subject: String?, at time: Int64, in work: UnitOfWork
    ) async throws
        -> [String]
    /// Spends one use of a use-limited live token; the last use revokes it. Returns the uses left, or
    /// nil if none was left (or the token is no longer live). Accounting, outside any unit of work.
    func consumeTokenUse(accessor: String, tenantID: String, at time: Int64) async throws -> Int64?
    /// Creates or replaces a token role's document.
    func putTokenRole(tenantID: String, name: String, document: JSONValue, in work: UnitOfWork) async throws
    /// A token role's document.
    func tokenRole(tenantID: String, name: String) async throws -> JSONValue?
    /// The tenant's token role names, sorted.
    func tokenRoleNames(tenantID: String) async throws -> [String]
    /// Deletes a token role; false if there was none.
    func deleteTokenRole(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool
}

/// Persistence of KV v2 secrets. Every write runs in one transaction of the given unit of work, which
/// appends the work's audit entry before commit.
public protocol SecretStore: Sendable {
    /// Metadata of a path.
    func metadata(tenantID: String, mount: String, path: String) async throws -> SecretMetadata?
    /// All kept versions of a path, ascending.
    func versions(tenantID: String, mount: String, path: String) async throws -> [SecretVersion]
    /// Writes a new version atomically: checks CAS, assigns the version, seals, prunes beyond max versions.
    func write(
        tenantID: String, mount: String, path: String, _ write: SecretWrite, at time: Int64, in work: UnitOfWork
    ) async throws -> (SecretMetadata, SecretVersion)
    /// Sets or clears (`nil`) the deletion time of versions; returns how many changed.
    @discardableResult
    func setDeletion(tenantID: String, mount: String, path: String, versions: [Int], deletedAt: Int64?, in work: UnitOfWork) async throws -> Int
    /// Up to `limit` live versions of the tenant whose `delete_version_after` (the secret's, else its
    /// mount's) is due at `now`, with their due times.
    func dueVersions(tenantID: String, now: Int64, limit: Int) async throws -> [DueVersion]
    /// Soft-deletes `versions` at their due times (those still live); returns how many changed.
    func softDelete(tenantID: String, _ versions: [DueVersion], in work: UnitOfWork) async throws -> Int
    /// Erases the blobs of versions; returns how many changed.
    @discardableResult
    func destroy(tenantID: String, mount: String, path: String, versions: [Int], in work: UnitOfWork) async throws -> Int
    /// Creates or updates metadata.
    func updateMetadata(
        tenantID: String, mount: String, path: String, _ update: SecretMetadataUpdate, at time: Int64, in work: UnitOfWork
    ) async throws -> SecretMetadata
    /// Deletes metadata and every version of a path; returns whether it existed.
    @discardableResult
    func deleteAll(tenantID: String, mount: String, path: String, in work: UnitOfWork) async throws -> Bool
    /// Paths in a mount starting with `prefix`.
    func paths(tenantID: String, mount: String, prefix: String) async throws -> [String]
    /// Number of stored (not destroyed) versions sealed with a given data-key version.
    func countVersions(tenantID: String, keyVersion: Int) async throws -> Int
    /// Up to `limit` (path, mount, version) rows sealed below `keyVersion`, for re-encryption.
    func versionsBelow(tenantID: String, keyVersion: Int, limit: Int) async throws -> [(mount: String, path: String, version: SecretVersion)]
    /// Replaces a version's blob if it is still sealed with `expectedKeyVersion`; returns whether it changed.
    func replaceBlob(
        tenantID: String, mount: String, path: String, version: Int, expectedKeyVersion: Int, blob: [UInt8], keyVersion: Int, in work: UnitOfWork
    ) async throws -> Bool
    /// Stored (not destroyed) versions sealed below `keyVersion`.
    func countVersionsBelow(tenantID: String, keyVersion: Int) async throws -> Int
    /// Up to `limit` versions sealed below `keyVersion` after `cursor` in (mount, path, version) order: one
    /// page of a re-encryption job.
    func sealedVersions(tenantID: String, below keyVersion: Int, after cursor: KVCursor?, limit: Int) async throws -> [SealedVersion]
    /// Writes re-sealed blobs (sealed under `keyVersion`) in one transaction, each only where the row is
    /// still sealed under its expected version and not destroyed; returns how many changed. Maintenance:
    /// recorded by the job, not one audit entry per row.
    func replaceBlobs(tenantID: String, _ replacements: [BlobReplacement], keyVersion: Int) async throws -> Int
}

/// Background re-encryption jobs and data-key rotation policies.
public protocol KeyringJobStore: Sendable {
    /// Stores a new running job; `JOB_RUNNING` when the tenant already has one running.
    func insertJob(_ job: ReencryptionJob, in work: UnitOfWork) async throws
    /// A tenant's job by id.
    func job(id: String, tenantID: String) async throws -> ReencryptionJob?
    /// A tenant's newest jobs first.
    func jobs(tenantID: String, limit: Int) async throws -> [ReencryptionJob]
    /// Every tenant's running jobs, oldest first (the leader's work).
    func runningJobs() async throws -> [ReencryptionJob]
    /// Saves a running job's progress; false when it is no longer running (cancelled meanwhile).
    func saveProgress(_ job: ReencryptionJob) async throws -> Bool
    /// Ends a running job in `job.state` with its final figures; false when it had already ended.
    func finishJob(_ job: ReencryptionJob, in work: UnitOfWork) async throws -> Bool
    /// A tenant's rotation policy.
    func rotationPolicy(tenantID: String) async throws -> RotationPolicy?
    /// Replaces a tenant's rotation policy.
    func saveRotationPolicy(_ policy: RotationPolicy, in work: UnitOfWork) async throws
    /// Policies whose next scheduled rotation is at or before `now`, across tenants.
    func duePolicies(now: Int64) async throws -> [RotationPolicy]
    /// Moves a policy's schedule on, only if its next run is still `expected`: of several instances
    /// only one claims each run.
    func claimPolicyRun(tenantID: String, expected: Int64, ranAt: Int64, nextRunAt: Int64?) async throws -> Bool
}

/// Transit keys (each stored as one blob sealed under the tenant's data key) and protection policies.
public protocol TransitStore: Sendable {
    /// A key's sealed blob.
    func sealedKey(tenantID: String, name: String) async throws -> [UInt8]?
    /// A tenant's key names, sorted.
    func keyNames(tenantID: String) async throws -> [String]
    /// Stores a new key; `false` if the name is taken.
    func createKey(tenantID: String, name: String, sealed: [UInt8], at time: Int64, in work: UnitOfWork) async throws -> Bool
    /// Replaces a key's blob in one transaction (row locked on PostgreSQL): `transform` gets the current blob and
    /// returns the new one. `false` if there is no such key.
    func updateKey(
        tenantID: String, name: String, at time: Int64, in work: UnitOfWork, _ transform: @escaping @Sendable ([UInt8]) async throws -> [UInt8]
    ) async throws -> Bool
    /// Deletes a key; `false` if there was none.
    func deleteKey(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool
    /// A policy's JSON document.
    func policy(tenantID: String, name: String) async throws -> String?
    /// Creates or replaces a policy.
    func putPolicy(tenantID: String, name: String, document: String, at time: Int64, in work: UnitOfWork) async throws
    /// A tenant's policy names, sorted.
    func policyNames(tenantID: String) async throws -> [String]
    /// Deletes a policy; `false` if there was none.
    func deletePolicy(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool
}

/// Everything Coffer persists, behind one value.
public protocol CofferStorage: Sendable {
    /// Tenants.
    var tenants: any TenantStore { get }
    /// Keyring.
    var keyring: any KeyringStore { get }
    /// Tokens.
    var tokens: any TokenStore { get }
    /// KV secrets.
    var secrets: any SecretStore { get }
    /// Audit chains.
    var audit: any AuditStore { get }
    /// API keys.
    var apiKeys: any APIKeyStore { get }
    /// Transit keys and protection policies.
    var transit: any TransitStore { get }
    /// Gateway projects.
    var gateway: any GatewayStore { get }
    /// Secrets-engine mounts.
    var mounts: any MountStore { get }
    /// Wrapped responses.
    var wrapping: any WrappingStore { get }
    /// Auth methods, their users and roles, secret IDs and lockouts.
    var identity: any IdentityStore { get }
    /// Alerts and each tenant's alert settings.
    var alerts: any AlertStore { get }
    /// Re-encryption jobs and rotation policies.
    var keyringJobs: any KeyringJobStore { get }
    /// Rate-limit and quota counters (shared between instances when the storage is).
    var rateLimits: any RateLimiterBackend { get }
    /// Whether several server instances may share this storage.
    var isShared: Bool { get }
    /// Calls `handler` (as well as dropping the storage's own caches) whenever another instance may
    /// have changed stored data; never on single-instance storage.
    func onExternalChange(_ handler: @escaping @Sendable () -> Void)
    /// Closes connections.
    func shutdown() async throws
    /// Runs `body` while this instance leads the cluster's background jobs (see `SQLDatabase`); false
    /// at once when another instance leads.
    func whileLeading(_ body: @Sendable (_ stillLeading: @escaping @Sendable () async -> Bool) async throws -> Void) async throws -> Bool
}

/// Gateway projects, each one JSON document (no secrets in it: credentials are KV references).
public protocol GatewayStore: Sendable {
    /// A project's document.
    func project(tenantID: String, name: String) async throws -> String?
    /// A tenant's project names, sorted.
    func projectNames(tenantID: String) async throws -> [String]
    /// Creates or replaces a project; returns whether it existed before.
    @discardableResult
    func putProject(tenantID: String, name: String, document: String, at time: Int64, in work: UnitOfWork) async throws -> Bool
    /// Deletes a project; `false` if there was none.
    func deleteProject(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool
    /// Records signed requests' nonces (each until its `expiresAt`, Unix seconds) in one transaction;
    /// for each, `false` if it is already recorded and not expired, or appears earlier in the same batch
    /// (a replay). Shared by every instance on the same database.
    func rememberNonces(_ items: [NonceCommitter.Item], now: Int64) async throws -> [Bool]
    /// Forgets nonces that expired before `now`; returns how many.
    @discardableResult
    func sweepNonces(now: Int64) async throws -> Int
    /// A client's suspension (until, ms, and why), if any was recorded.
    func suspension(tenantID: String, project: String, client: String) async throws -> (until: Int64, reason: String)?
    /// Records (or extends) a suspension.
    func suspend(tenantID: String, project: String, client: String, until: Int64, reason: String, at time: Int64, in work: UnitOfWork) async throws
    /// Lifts a suspension; `false` if there was none.
    func liftSuspension(tenantID: String, project: String, client: String, in work: UnitOfWork) async throws -> Bool
    /// A project's suspensions: client, until (ms), reason.
    func suspensions(tenantID: String, project: String) async throws -> [(client: String, until: Int64, reason: String)]
    /// Creates or replaces a project's asset (its description and sealed content); returns whether it
    /// existed before. `createdAt` of an existing asset is kept.
    @discardableResult
    func putAsset(tenantID: String, project: String, _ asset: GatewayAsset, sealed: [UInt8], in work: UnitOfWork) async throws -> Bool
    /// An asset's description and sealed content.
    func asset(tenantID: String, project: String, name: String) async throws -> (GatewayAsset, sealed: [UInt8])?
    /// A project's assets (descriptions only), sorted by name.
    func assets(tenantID: String, project: String) async throws -> [GatewayAsset]
    /// Deletes an asset; `false` if there was none.
    func deleteAsset(tenantID: String, project: String, name: String, in work: UnitOfWork) async throws -> Bool
    /// A tenant's assets sealed under a data key older than `keyVersion`: (project, name), at most `limit`.
    func assetsSealedBefore(tenantID: String, keyVersion: Int, limit: Int) async throws -> [(project: String, name: String)]
    /// A project's managed publishable key.
    func managedKey(tenantID: String, project: String) async throws -> ManagedKeyRecord?
    /// Records a project's managed key: inserted when `expectedKeyID` is nil and there is none, else
    /// replaced only if the stored one is still `expectedKeyID`. Returns whether it was written (a
    /// racing instance that wrote first makes this `false`).
    func putManagedKey(
        tenantID: String, project: String, _ record: ManagedKeyRecord, replacing expectedKeyID: String?, in work: UnitOfWork
    )
        async throws -> Bool
    /// Replaces an asset's sealed content if it is still `expected` (a re-encryption that lost a race
    /// with an upload changes nothing); returns whether it did.
    func resealAsset(tenantID: String, project: String, name: String, expected: [UInt8], sealed: [UInt8], in work: UnitOfWork) async throws -> Bool
}

import Foundation

/// KV v2 semantics over a ``SecretStore``: envelope encryption with the tenant's data key,
/// check-and-set, versions, soft delete, destroy, metadata and `$ENV` references.
public struct SecretService: Sendable {
    /// A read's outcome: metadata, the version asked for, and its data unless deleted or destroyed.
    public struct ReadResult: Sendable {
        /// Path metadata.
        public var metadata: SecretMetadata
        /// The version read.
        public var version: SecretVersion
        /// The decrypted data, `nil` if the version is deleted or destroyed.
        public var data: [String: JSONValue]?
    }

    private let store: any SecretStore
    /// The keyring its data keys come from.
    public let keyring: Keyring
    private let clock: any CofferClock
    private let references: EnvReferencePolicy
    /// Versions kept when a path's metadata says 0 (Vault's default is 10).
    public let defaultMaxVersions: Int

    /// Creates the service.
    public init(store: any SecretStore, keyring: Keyring, clock: any CofferClock, references: EnvReferencePolicy, defaultMaxVersions: Int = 10) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
        self.references = references
        self.defaultMaxVersions = defaultMaxVersions
    }

    /// Normalises a secret path: Unicode NFC (so `café` typed either way is one path for storage, LIST,
    /// scopes and AAD alike), trims slashes, rejects empty, `.`/`..` and empty segments, control characters.
    public static func normalize(_ raw: String) throws(CofferError) -> String {
        // ASCII is already in NFC; the Foundation mapping is only paid for other paths (it was 3% of a KV read).
        var path = raw.utf8.allSatisfy({ $0 < 0x80 }) ? Substring(raw) : Substring(raw.precomposedStringWithCanonicalMapping)
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.utf8.count <= 512,
            segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }),
            path.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
        else {
            throw CofferError(.invalidRequest, "invalid secret path")
        }
        return String(path)
    }

    /// Writes a new version of `data` at `path`.
    public func write(
        tenant: Tenant, mount: String, path: String, data: [String: JSONValue], cas: Int?, config: KVMountConfig = KVMountConfig(),
        in work: UnitOfWork
    ) async throws -> (SecretMetadata, SecretVersion) {
        let path = try Self.normalize(path)
        var refs: [String: String] = [:]
        for (field, value) in data {
            if let text = value.stringValue, let name = references.referencedName(text) { refs[field] = name }
        }
        let key = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        let plaintext = JSONValue.object(data).canonicalBytes()
        let tenantID = tenant.id
        let write = SecretWrite(
            cas: cas, defaultMaxVersions: config.maxVersions > 0 ? config.maxVersions : defaultMaxVersions, casRequired: config.casRequired,
            keyVersion: key.version, references: refs
        ) {
            version throws(CofferError) in
            try SealedBox.seal(
                plaintext, key: key.key, keyVersion: key.version,
                aad: .secret(tenantID: tenantID, mount: mount, path: path, version: version))
        }
        return try await store.write(tenantID: tenant.id, mount: mount, path: path, write, at: clock.nowMillis, in: work)
    }

    /// Reads the latest version, or `version` when given. Throws `NOT_FOUND` when nothing is there.
    public func read(
        tenant: Tenant, mount: String, path: String, version: Int?, config: KVMountConfig = KVMountConfig()
    ) async throws -> ReadResult {
        let path = try Self.normalize(path)
        guard let metadata = try await store.metadata(tenantID: tenant.id, mount: mount, path: path), metadata.currentVersion > 0 else {
            throw CofferError(.notFound, "no secret at this path")
        }
        let wanted = (version ?? 0) == 0 ? metadata.currentVersion : (version ?? 0)
        let versions = try await store.versions(tenantID: tenant.id, mount: mount, path: path)
        guard let found = versions.first(where: { $0.version == wanted }) else {
            throw CofferError(.notFound, "no such version")
        }
        let stored = KVRules.asSeen(found, metadata: metadata, mount: config, now: clock.nowMillis)
        guard stored.deletedAt == nil, !stored.destroyed, let blob = stored.blob else {
            return ReadResult(metadata: metadata, version: stored, data: nil)
        }
        let data = try await decrypt(blob: blob, tenantID: tenant.id, mount: mount, path: path, version: stored.version)
        return ReadResult(metadata: metadata, version: stored, data: try resolve(data, references: stored.references))
    }

    /// Decrypts a stored blob for its place; fails if it was moved from elsewhere or tampered with.
    public func decrypt(blob: [UInt8], tenantID: String, mount: String, path: String, version: Int) async throws -> [String: JSONValue] {
        guard let keyVersion = SealedBox.keyVersion(of: blob) else {
            throw CofferError(.decryptionFailed, "stored ciphertext is malformed")
        }
        let key: DataKey
        do {
            key = try await keyring.dataKey(tenantID: tenantID, version: keyVersion)
        } catch let error as CofferError where error.code == .keyVersionUnknown {
            throw CofferError(.decryptionFailed, "stored ciphertext names a data-key version this tenant does not have")
        }
        let plaintext = try SealedBox.open(blob, aad: .secret(tenantID: tenantID, mount: mount, path: path, version: version)) {
            _ throws(CofferError) in key.key
        }
        guard let object = JSONValue.parse(plaintext)?.objectValue else {
            throw CofferError(.decryptionFailed, "stored value is not a JSON object")
        }
        return object
    }

    private func resolve(_ data: [String: JSONValue], references refs: [String: String]) throws(CofferError) -> [String: JSONValue] {
        guard !refs.isEmpty else { return data }
        var resolved = data
        for (field, name) in refs {
            guard references.referencedName("$" + name) == name, let value = references.resolve(name) else {
                throw CofferError(.referenceUnresolved, "field '\(field)' references environment variable \(name), which the server cannot resolve")
            }
            resolved[field] = .string(value)
        }
        return resolved
    }

    /// Metadata and every kept version of a path.
    public func metadata(
        tenant: Tenant, mount: String, path: String, config: KVMountConfig = KVMountConfig()
    ) async throws -> (SecretMetadata, [SecretVersion]) {
        let path = try Self.normalize(path)
        guard let metadata = try await store.metadata(tenantID: tenant.id, mount: mount, path: path) else {
            throw CofferError(.notFound, "no secret at this path")
        }
        let now = clock.nowMillis
        let versions = try await store.versions(tenantID: tenant.id, mount: mount, path: path)
        return (metadata, versions.map { KVRules.asSeen($0, metadata: metadata, mount: config, now: now) })
    }

    /// Vault's KV v2 PATCH: merges `changes` into the latest version (a `null` value removes that field) and
    /// writes the result as a new version, checked against `cas` (by default the version that was read, so
    /// a concurrent write is never silently overwritten).
    public func patch(
        tenant: Tenant, mount: String, path: String, changes: [String: JSONValue], cas: Int?, config: KVMountConfig = KVMountConfig(),
        in work: UnitOfWork
    ) async throws -> (SecretMetadata, SecretVersion) {
        let current = try await read(tenant: tenant, mount: mount, path: path, version: nil, config: config)
        guard var merged = current.data else { throw CofferError(.notFound, "the latest version is deleted or destroyed") }
        for (key, value) in changes {
            if value == .null { merged.removeValue(forKey: key) } else { merged[key] = value }
        }
        return try await write(
            tenant: tenant, mount: mount, path: path, data: merged, cas: cas ?? current.metadata.currentVersion, config: config, in: work)
    }

    /// Records the soft deletion of every version of the tenant whose `delete_version_after` is due
    /// (the background job; readers already see such versions as deleted). Returns what it deleted.
    /// The versions are named in the audit entry before the write, so the entry lists exactly what
    /// the job set out to delete; one already undeleted, deleted or destroyed meanwhile is left alone.
    public func deleteDueVersions(tenant: Tenant, limit: Int = 500, in work: UnitOfWork) async throws -> [DueVersion] {
        let due = try await store.dueVersions(tenantID: tenant.id, now: clock.nowMillis, limit: limit)
        guard !due.isEmpty else { return [] }
        work.addDetails(["count": String(due.count), "versions": due.prefix(50).map(\.description).joined(separator: " ")])
        _ = try await store.softDelete(tenantID: tenant.id, due, in: work)
        return due
    }

    /// Soft-deletes the latest version.
    public func deleteLatest(tenant: Tenant, mount: String, path: String, in work: UnitOfWork) async throws {
        let path = try Self.normalize(path)
        guard let metadata = try await store.metadata(tenantID: tenant.id, mount: mount, path: path), metadata.currentVersion > 0 else {
            return
        }
        try await store.setDeletion(
            tenantID: tenant.id, mount: mount, path: path, versions: [metadata.currentVersion], deletedAt: clock.nowMillis, in: work)
    }

    /// Soft-deletes (`undelete == false`) or restores the given versions.
    public func setDeleted(tenant: Tenant, mount: String, path: String, versions: [Int], undelete: Bool, in work: UnitOfWork) async throws {
        let path = try Self.normalize(path)
        try await store.setDeletion(
            tenantID: tenant.id, mount: mount, path: path, versions: versions, deletedAt: undelete ? nil : clock.nowMillis, in: work)
    }

    /// Permanently erases the given versions' values.
    public func destroy(tenant: Tenant, mount: String, path: String, versions: [Int], in work: UnitOfWork) async throws {
        let path = try Self.normalize(path)
        try await store.destroy(tenantID: tenant.id, mount: mount, path: path, versions: versions, in: work)
    }

    /// Creates or updates metadata.
    public func updateMetadata(
        tenant: Tenant, mount: String, path: String, _ update: SecretMetadataUpdate, in work: UnitOfWork
    ) async throws -> SecretMetadata {
        let path = try Self.normalize(path)
        if let max = update.maxVersions, max < 0 || max > 10_000 {
            throw CofferError(.invalidRequest, "max_versions must be between 0 and 10000")
        }
        if let custom = update.customMetadata, custom.count > 64 || custom.contains(where: { $0.key.utf8.count > 128 || $0.value.utf8.count > 512 }) {
            throw CofferError(.invalidRequest, "custom_metadata allows at most 64 keys of 128 bytes with values of 512 bytes")
        }
        return try await store.updateMetadata(tenantID: tenant.id, mount: mount, path: path, update, at: clock.nowMillis, in: work)
    }

    /// Deletes the metadata and all versions of a path.
    public func deleteAll(tenant: Tenant, mount: String, path: String, in work: UnitOfWork) async throws {
        let path = try Self.normalize(path)
        try await store.deleteAll(tenantID: tenant.id, mount: mount, path: path, in: work)
    }

    /// Direct children under a folder: names, with a trailing `/` for sub-folders. Throws `NOT_FOUND` if none.
    public func list(tenant: Tenant, mount: String, folder: String) async throws -> [String] {
        var prefix = folder
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        if !prefix.isEmpty {
            prefix = try Self.normalize(prefix) + "/"
        }
        let paths = try await store.paths(tenantID: tenant.id, mount: mount, prefix: prefix)
        var keys = Set<String>()
        // Bytes, not Characters: Swift's String comparison is canonical equivalence, storage compares bytes.
        for path in paths where path.utf8.starts(with: prefix.utf8) {
            let rest = Substring(String(decoding: path.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
            if let slash = rest.firstIndex(of: "/") {
                keys.insert(String(rest[..<slash]) + "/")
            } else if !rest.isEmpty {
                keys.insert(String(rest))
            }
        }
        guard !keys.isEmpty else { throw CofferError(.notFound, "nothing under this path") }
        return keys.sorted()
    }

    /// Re-encrypts up to `batchSize` versions still sealed with an older data key than the active one.
    /// Returns how many were re-encrypted; 0 means done. Safe to interrupt and run again.
    public func reencryptBatch(tenant: Tenant, batchSize: Int, in work: UnitOfWork) async throws -> Int {
        let active = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        let rows = try await store.versionsBelow(tenantID: tenant.id, keyVersion: active.version, limit: batchSize)
        var done = 0
        for row in rows {
            guard let blob = row.version.blob else { continue }
            let data = try await decrypt(blob: blob, tenantID: tenant.id, mount: row.mount, path: row.path, version: row.version.version)
            let sealed = try SealedBox.seal(
                JSONValue.object(data).canonicalBytes(), key: active.key, keyVersion: active.version,
                aad: .secret(tenantID: tenant.id, mount: row.mount, path: row.path, version: row.version.version))
            if try await store.replaceBlob(
                tenantID: tenant.id, mount: row.mount, path: row.path, version: row.version.version,
                expectedKeyVersion: row.version.keyVersion, blob: sealed, keyVersion: active.version, in: work)
            {
                done += 1
            }
        }
        return done
    }
}

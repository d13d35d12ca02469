import CofferCore

// Store writes outside any request, for storage-level tests only. Production code always names the
// unit of work a write belongs to; these overloads live in the test target so it cannot call them.

extension TenantStore {
    func createTenant(_ tenant: Tenant, firstKey: WrappedDataKey) async throws {
        try await createTenant(tenant, firstKey: firstKey, state: nil, in: .unaudited())
    }
}

extension KeyringStore {
    func addDataKey(_ key: WrappedDataKey) async throws { try await addDataKey(key, state: nil, in: .unaudited()) }
    func setActiveDataKey(tenantID: String, version: Int) async throws {
        try await setActiveDataKey(tenantID: tenantID, version: version, state: nil, in: .unaudited())
    }
    func rotateRootKey(_ record: RootKeyRecord, systemKeys: [String: [UInt8]], dataKeys: [WrappedDataKey]) async throws {
        try await rotateRootKey(record, systemKeys: systemKeys, dataKeys: dataKeys, states: [])
    }
}

extension TokenStore {
    func insertToken(_ token: TokenRecord) async throws { try await insertToken(token, in: .unaudited()) }
    func revokeToken(accessor: String, tenantID: String, at time: Int64) async throws -> [String] {
        try await revokeToken(accessor: accessor, tenantID: tenantID, at: time, in: .unaudited())
    }
}

extension SecretStore {
    func write(tenantID: String, mount: String, path: String, _ write: SecretWrite, at time: Int64) async throws -> (SecretMetadata, SecretVersion) {
        try await self.write(tenantID: tenantID, mount: mount, path: path, write, at: time, in: .unaudited())
    }
    @discardableResult
    func setDeletion(tenantID: String, mount: String, path: String, versions: [Int], deletedAt: Int64?) async throws -> Int {
        try await setDeletion(tenantID: tenantID, mount: mount, path: path, versions: versions, deletedAt: deletedAt, in: .unaudited())
    }
    @discardableResult
    func destroy(tenantID: String, mount: String, path: String, versions: [Int]) async throws -> Int {
        try await destroy(tenantID: tenantID, mount: mount, path: path, versions: versions, in: .unaudited())
    }
    func updateMetadata(tenantID: String, mount: String, path: String, _ update: SecretMetadataUpdate, at time: Int64) async throws -> SecretMetadata
    {
        try await updateMetadata(tenantID: tenantID, mount: mount, path: path, update, at: time, in: .unaudited())
    }
    @discardableResult
    func deleteAll(tenantID: String, mount: String, path: String) async throws -> Bool {
        try await deleteAll(tenantID: tenantID, mount: mount, path: path, in: .unaudited())
    }
    func replaceBlob(
        tenantID: String, mount: String, path: String, version: Int, expectedKeyVersion: Int, blob: [UInt8], keyVersion: Int
    ) async throws -> Bool {
        try await replaceBlob(
            tenantID: tenantID, mount: mount, path: path, version: version, expectedKeyVersion: expectedKeyVersion, blob: blob,
            keyVersion: keyVersion, in: .unaudited())
    }
}

extension TransitStore {
    func createKey(tenantID: String, name: String, sealed: [UInt8], at time: Int64) async throws -> Bool {
        try await createKey(tenantID: tenantID, name: name, sealed: sealed, at: time, in: .unaudited())
    }
    func deleteKey(tenantID: String, name: String) async throws -> Bool { try await deleteKey(tenantID: tenantID, name: name, in: .unaudited()) }
    func putPolicy(tenantID: String, name: String, document: String, at time: Int64) async throws {
        try await putPolicy(tenantID: tenantID, name: name, document: document, at: time, in: .unaudited())
    }
    func deletePolicy(tenantID: String, name: String) async throws -> Bool {
        try await deletePolicy(tenantID: tenantID, name: name, in: .unaudited())
    }
}

extension APIKeyStore {
    func insert(_ key: APIKeyRecord) async throws { try await insert(key, in: .unaudited()) }
    func update(_ key: APIKeyRecord) async throws -> Bool { try await update(key, in: .unaudited()) }
    func revoke(id: String, tenantID: String, at time: Int64, reason: String, by actor: String) async throws -> Bool {
        try await revoke(id: id, tenantID: tenantID, at: time, reason: reason, by: actor, in: .unaudited())
    }
    func rotate(id: String, tenantID: String, replacement: APIKeyRecord, oldExpiresAt: Int64) async throws -> Bool {
        try await rotate(id: id, tenantID: tenantID, replacement: replacement, oldExpiresAt: oldExpiresAt, in: .unaudited())
    }
}

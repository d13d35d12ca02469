import Foundation

/// Response wrapping (Vault's `X-Vault-Wrap-TTL` and `sys/wrapping/*`): an answer is sealed under the
/// tenant's data key and handed out as a single-use wrapping token; unwrapping returns it once.
public struct WrappingService: Sendable {
    private let store: any WrappingStore
    private let keyring: Keyring
    private let clock: any CofferClock

    /// The longest wrap TTL: 768 h, Vault's default maximum.
    public static let maximumTTLSeconds: Int64 = 768 * 3600

    /// Creates the service.
    public init(store: any WrappingStore, keyring: Keyring, clock: any CofferClock) {
        self.store = store
        self.keyring = keyring
        self.clock = clock
    }

    /// What a client gets instead of the answer.
    public struct Info: Sendable {
        /// The wrapping token (shown once).
        public var token: String
        /// The stored record.
        public var record: WrappedResponse
    }

    /// Parses `X-Vault-Wrap-TTL` (`60`, `5m`, `1h`): 1 s to 768 h, else `INVALID_REQUEST`.
    public static func ttl(_ header: String) throws(CofferError) -> Int64 {
        let text = header.trimmingCharacters(in: .whitespaces)
        let seconds = Int64(text) ?? Timestamp.parseDuration(text)
        guard let seconds, (1...maximumTTLSeconds).contains(seconds) else {
            throw CofferError(.invalidRequest, "X-Vault-Wrap-TTL must be a duration from 1s to 768h")
        }
        return seconds
    }

    /// Seals `answer` (the JSON the client would have received) and stores it for `ttlSeconds`.
    public func wrap(_ answer: JSONValue, tenant: Tenant, creationPath: String, ttlSeconds: Int64, in work: UnitOfWork) async throws -> Info {
        let token = WrappingToken.generate()
        let accessor = AccessToken.generateAccessor()
        let now = clock.nowMillis
        let key = try await keyring.dataKey(tenantID: tenant.id, version: tenant.activeKeyVersion)
        let sealed = try SealedBox.seal(
            answer.canonicalBytes(), key: key.key, keyVersion: key.version,
            aad: .wrapped(tenantID: tenant.id, accessor: accessor, creationPath: creationPath))
        let record = WrappedResponse(
            accessor: accessor, tenantID: tenant.id, tokenHash: try keyring.credentialHasher().hash(token), creationPath: creationPath,
            createdAt: now, expiresAt: now + ttlSeconds * 1000, sealed: sealed)
        work.addDetails(["wrapping_accessor": accessor, "creation_path": creationPath, "wrap_ttl": String(ttlSeconds)])
        try await store.insertWrapped(record, in: work)
        return Info(token: token, record: record)
    }

    /// The live wrapped response a wrapping token names, without consuming it; nil when unknown,
    /// expired or already unwrapped (callers answer all alike).
    public func lookup(_ token: String) async throws -> WrappedResponse? {
        guard WrappingToken.looksValid(token) else { return nil }
        let hash = try keyring.credentialHasher().hash(token)
        guard let record = try await store.wrapped(tokenHash: hash, now: clock.nowMillis), ConstantTime.equals(record.tokenHash, hash) else {
            return nil
        }
        return record
    }

    /// Unwraps: removes the wrapped response (whoever comes second finds nothing) and opens it. Only a
    /// caller of `tenantID` may (nil: the wrapping token itself is the credential).
    public func unwrap(_ token: String, tenantID: String?, in work: UnitOfWork) async throws -> (WrappedResponse, JSONValue) {
        let invalid = CofferError(.invalidRequest, "wrapping token is not valid or does not exist")
        guard let found = try await lookup(token), tenantID == nil || found.tenantID == tenantID else { throw invalid }
        work.addDetails(["wrapping_accessor": found.accessor, "creation_path": found.creationPath])
        guard let taken = try await store.takeWrapped(tokenHash: found.tokenHash, now: clock.nowMillis, in: work) else { throw invalid }
        return (taken, try await open(taken))
    }

    /// Opens a wrapped response; `STORAGE_CORRUPT` if it was moved or altered.
    func open(_ record: WrappedResponse) async throws -> JSONValue {
        guard let version = SealedBox.keyVersion(of: record.sealed) else { throw CofferError(.storageCorrupt, "a wrapped response is malformed") }
        let key = try await keyring.dataKey(tenantID: record.tenantID, version: version)
        let plaintext = try SealedBox.open(
            record.sealed, aad: .wrapped(tenantID: record.tenantID, accessor: record.accessor, creationPath: record.creationPath)
        ) { _ throws(CofferError) in key.key }
        guard let answer = JSONValue.parse(plaintext) else { throw CofferError(.storageCorrupt, "a wrapped response is malformed") }
        return answer
    }

    /// Deletes expired wrapped responses (background job).
    @discardableResult
    public func purgeExpired() async throws -> Int { try await store.purgeExpiredWraps(now: clock.nowMillis) }
}

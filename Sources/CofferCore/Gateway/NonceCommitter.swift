/// Group commit for the nonces of signed gateway requests: concurrent requests' nonces are recorded in
/// one transaction (one disk flush for many), each caller resumed once its own nonce is known to be
/// new (recorded) or seen (a replay). Same durability as one transaction per nonce.
public actor NonceCommitter {
    /// One nonce to remember.
    public struct Item: Sendable, Hashable {
        /// The tenant.
        public var tenantID: String
        /// Where the nonce is unique (the project).
        public var scope: String
        /// The nonce (or the signature, for the simple form).
        public var nonce: String
        /// When it may be forgotten (Unix seconds).
        public var expiresAt: Int64

        /// Creates an item.
        public init(tenantID: String, scope: String, nonce: String, expiresAt: Int64) {
            self.tenantID = tenantID
            self.scope = scope
            self.nonce = nonce
            self.expiresAt = expiresAt
        }
    }

    private let store: any GatewayStore
    private var queue: [(Item, Int64, CheckedContinuation<Bool, any Error>)] = []
    private var flushing = false

    /// Creates a committer over a store.
    public init(store: any GatewayStore) { self.store = store }

    /// Records `item` at `now` (Unix seconds); `false` if it is already recorded and not expired.
    public func remember(_ item: Item, now: Int64) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            queue.append((item, now, continuation))
            if !flushing {
                flushing = true
                Task.detached { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !queue.isEmpty {
            let batch = queue
            queue = []
            do {
                let now = batch.map(\.1).max() ?? 0
                let accepted = try await store.rememberNonces(batch.map(\.0), now: now)
                for (item, fresh) in zip(batch, accepted) { item.2.resume(returning: fresh) }
            } catch {
                for item in batch { item.2.resume(throwing: error) }
            }
        }
        flushing = false
    }
}

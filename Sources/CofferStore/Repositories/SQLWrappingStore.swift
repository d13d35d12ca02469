import CofferCore

/// Wrapped responses. Never cached: each is read at most twice (lookup, unwrap).
struct SQLWrappingStore: WrappingStore {
    let db: WorkDatabase

    func insertWrapped(_ wrapped: WrappedResponse, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(wrapped.tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO wrapped_responses (accessor, tenant_id, token_hash, creation_path, created_at, expires_at, sealed)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """,
                [
                    .text(wrapped.accessor), .text(wrapped.tenantID), .blob(wrapped.tokenHash), .text(wrapped.creationPath),
                    .int(wrapped.createdAt), .int(wrapped.expiresAt), .blob(wrapped.sealed),
                ])
        }
    }

    func wrapped(tokenHash: [UInt8], now: Int64) async throws -> WrappedResponse? {
        // By the wrapping token's hash, before its tenant is known.
        try await db.query(in: .system, "SELECT * FROM wrapped_responses WHERE token_hash = $1 AND expires_at > $2", [.blob(tokenHash), .int(now)])
            .first.map(Self.decode)
    }

    func takeWrapped(tokenHash: [UInt8], now: Int64, in work: UnitOfWork) async throws -> WrappedResponse? {
        try await db.transaction(work, in: .system) { tx in
            try await tx.query(
                "DELETE FROM wrapped_responses WHERE token_hash = $1 AND expires_at > $2 RETURNING *", [.blob(tokenHash), .int(now)]
            ).first.map(Self.decode)
        }
    }

    func purgeExpiredWraps(now: Int64) async throws -> Int {
        try await db.query(in: .system, "DELETE FROM wrapped_responses WHERE expires_at <= $1 RETURNING accessor", [.int(now)]).count
    }

    static func decode(_ row: SQLRow) throws -> WrappedResponse {
        WrappedResponse(
            accessor: try row.text("accessor"), tenantID: try row.text("tenant_id"), tokenHash: try row.blob("token_hash"),
            creationPath: try row.text("creation_path"), createdAt: try row.int("created_at"), expiresAt: try row.int("expires_at"),
            sealed: try row.blob("sealed"))
    }
}

import CofferCore
import Foundation

struct SQLAPIKeyStore: APIKeyStore {
    let db: WorkDatabase
    /// Records by keyed hash (single-instance storage only); invalidated after every change but `touch`.
    let cache: RecordCache<[UInt8], APIKeyRecord>?

    static let columns =
        "id, tenant_id, hash, display_prefix, kind, name, scopes_json, created_at, expires_at, last_used_at, revoked_at, revoked_reason, "
        + "revoked_by, cidrs_json, rate_limit, rate_period_ms, quota_limit, quota_window_ms, metadata_json, rotated_from, rotated_to"

    static func json<T: Encodable>(_ value: T) -> SQLValue {
        .text((try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "null")
    }

    static func binds(_ key: APIKeyRecord) -> [SQLValue] {
        [
            .text(key.id), .text(key.tenantID), .blob(key.hash), .text(key.displayPrefix), .text(key.kind.rawValue), .text(key.name),
            json(key.scopes), .int(key.createdAt), .optional(key.expiresAt), .optional(key.lastUsedAt), .optional(key.revokedAt),
            .optional(key.revokedReason), .optional(key.revokedBy), json(key.allowedCIDRs), .int(Int64(key.rateLimit)), .int(key.ratePeriodMillis),
            .int(Int64(key.quotaLimit)), .int(key.quotaWindowMillis), json(key.metadata), .optional(key.rotatedFrom), .optional(key.rotatedTo),
        ]
    }

    static func insert(_ key: APIKeyRecord, in executor: any SQLExecutor) async throws {
        let placeholders = (1...21).map { "$\($0)" }.joined(separator: ", ")
        try await executor.query("INSERT INTO api_keys (\(columns)) VALUES (\(placeholders))", binds(key))
    }

    func insert(_ key: APIKeyRecord, in work: UnitOfWork) async throws {
        defer { cache?.invalidateAll() }  // the cache remembers misses: a new key must not read as one
        try await db.transaction(work, in: .tenant(key.tenantID)) { tx in try await Self.insert(key, in: tx) }
    }

    func insertMany(_ keys: [APIKeyRecord]) async throws {
        guard !keys.isEmpty else { return }
        defer { cache?.invalidateAll() }
        // A bulk import may name several tenants.
        try await db.transaction(in: .system) { tx in
            for key in keys { try await Self.insert(key, in: tx) }
        }
    }

    func key(hash: [UInt8]) async throws -> APIKeyRecord? {
        // By hash, before the tenant is known: the system role's lookup.
        let load = { try await db.query(in: .system, "SELECT \(Self.columns) FROM api_keys WHERE hash = $1", [.blob(hash)]).first.map(Self.decode) }
        guard let cache else { return try await load() }
        return try await cache.load(hash, load)
    }

    func key(id: String, tenantID: String) async throws -> APIKeyRecord? {
        try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM api_keys WHERE id = $1 AND tenant_id = $2", [.text(id), .text(tenantID)]
        ).first.map(
            Self.decode)
    }

    func list(tenantID: String, afterID: String, limit: Int) async throws -> [APIKeyRecord] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT \(Self.columns) FROM api_keys WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            [.text(tenantID), .text(afterID), .int(Int64(max(1, min(limit, 1000))))]
        ).map(Self.decode)
    }

    func update(_ key: APIKeyRecord, in work: UnitOfWork) async throws -> Bool {
        defer { cache?.invalidateAll() }
        return
            !(try await db.transaction(work, in: .tenant(key.tenantID)) { tx in
                try await tx.query(
                    """
                    UPDATE api_keys SET name = $3, scopes_json = $4, expires_at = $5, cidrs_json = $6, rate_limit = $7, rate_period_ms = $8,
                      quota_limit = $9, quota_window_ms = $10, metadata_json = $11 WHERE id = $1 AND tenant_id = $2 RETURNING id
                    """,
                    [
                        .text(key.id), .text(key.tenantID), .text(key.name), Self.json(key.scopes), .optional(key.expiresAt),
                        Self.json(key.allowedCIDRs),
                        .int(Int64(key.rateLimit)), .int(key.ratePeriodMillis), .int(Int64(key.quotaLimit)), .int(key.quotaWindowMillis),
                        Self.json(key.metadata),
                    ])
            }).isEmpty
    }

    func revoke(id: String, tenantID: String, at time: Int64, reason: String, by actor: String, in work: UnitOfWork) async throws -> Bool {
        defer { cache?.invalidateAll() }
        return
            !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
                try await tx.query(
                    "UPDATE api_keys SET revoked_at = $3, revoked_reason = $4, revoked_by = $5 WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL RETURNING id",
                    [.text(id), .text(tenantID), .int(time), .text(reason), .text(actor)])
            }).isEmpty
    }

    func rotate(id: String, tenantID: String, replacement: APIKeyRecord, oldExpiresAt: Int64, in work: UnitOfWork) async throws -> Bool {
        defer { cache?.invalidateAll() }
        let lock = db.forUpdate
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            guard
                let old = try await tx.query(
                    "SELECT \(Self.columns) FROM api_keys WHERE id = $1 AND tenant_id = $2" + lock, [.text(id), .text(tenantID)]
                ).first.map(Self.decode),
                old.revokedAt == nil, old.rotatedTo == nil
            else { return false }
            var linked = replacement
            linked.rotatedFrom = id
            try await Self.insert(linked, in: tx)
            try await tx.query(
                "UPDATE api_keys SET rotated_to = $3, expires_at = $4 WHERE id = $1 AND tenant_id = $2",
                [.text(id), .text(tenantID), .text(replacement.id), .int(oldExpiresAt)])
            return true
        }
    }

    func touch(_ uses: [(id: String, time: Int64)]) async throws {
        guard !uses.isEmpty else { return }
        // A flush of last-used times names keys of any tenant.
        try await db.transaction(in: .system) { tx in
            for (id, time) in uses {
                try await tx.query(
                    "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)", [.text(id), .int(time)])
            }
        }
    }

    func needingAttention(
        tenantID: String, now: Int64, expiringBefore: Int64, createdBefore: Int64, unusedSince: Int64, limit: Int
    ) async throws
        -> [APIKeyRecord]
    {
        try await db.query(
            in: .tenant(tenantID),
            """
            SELECT \(Self.columns) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
              AND ((expires_at IS NOT NULL AND expires_at <= $3) OR (created_at <= $4 AND rotated_to IS NULL)
                   OR (COALESCE(last_used_at, created_at) <= $5))
            ORDER BY created_at, id LIMIT $6
            """,
            [.text(tenantID), .int(now), .int(expiringBefore), .int(createdBefore), .int(unusedSince), .int(Int64(limit))]
        ).map(Self.decode)
    }

    func census(now: Int64) async throws -> [APIKeyCensus] {
        let day: Int64 = 86_400_000
        let bounds = APIKeyCensus.Age.boundsInDays.map { now - $0 * day }
        // Counts across tenants: the system role's query; nothing but the two bucket names leaves the database.
        let rows = try await db.query(
            in: .system,
            """
            SELECT CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at IS NOT NULL AND expires_at <= $1 THEN 'expired'
                   ELSE 'active' END AS state,
                   CASE WHEN created_at > $2 THEN 'lt_30d' WHEN created_at > $3 THEN '30d_90d' WHEN created_at > $4 THEN '90d_365d'
                   ELSE 'gt_365d' END AS age,
                   COUNT(*) AS n
            FROM api_keys GROUP BY 1, 2
            """, [.int(now), .int(bounds[0]), .int(bounds[1]), .int(bounds[2])])
        return try rows.map { row in
            APIKeyCensus(
                state: try row.known("state", as: APIKeyCensus.State.self), age: try row.known("age", as: APIKeyCensus.Age.self),
                count: Int(try row.int("n")))
        }
    }

    static func decode(_ row: SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.text("id"), tenantID: try row.text("tenant_id"), hash: try row.blob("hash"), displayPrefix: try row.text("display_prefix"),
            kind: try row.known("kind", as: APIKeyFormat.Kind.self), name: try row.text("name"),
            scopes: try row.json("scopes_json", as: [String].self), createdAt: try row.int("created_at"),
            expiresAt: try row.optionalInt("expires_at"), lastUsedAt: try row.optionalInt("last_used_at"),
            revokedAt: try row.optionalInt("revoked_at"),
            revokedReason: try row.optionalText("revoked_reason"), revokedBy: try row.optionalText("revoked_by"),
            allowedCIDRs: try row.json("cidrs_json", as: [String].self), rateLimit: Int(try row.int("rate_limit")),
            ratePeriodMillis: try row.int("rate_period_ms"), quotaLimit: Int(try row.int("quota_limit")),
            quotaWindowMillis: try row.int("quota_window_ms"),
            metadata: try row.json("metadata_json", as: [String: String].self), rotatedFrom: try row.optionalText("rotated_from"),
            rotatedTo: try row.optionalText("rotated_to"))
    }
}

import CofferCore
import Foundation

/// Appends to and reads the audit chains. Appends lock the tenant's head row, so chains stay linear
/// across concurrent writers and instances.
struct SQLAuditStore: AuditStore {
    let db: any SQLDatabase

    func append(_ records: [(tenantID: String, record: AuditRecord)]) async throws -> [AuditEntry] {
        guard !records.isEmpty else { return [] }
        let dialect = db.dialect
        let scope = Self.scope(of: records)
        return try await db.transaction(in: scope) { tx in try await Self.append(records, in: tx, dialect: dialect, scope: scope) }
    }

    /// The narrowest scope that may write `records`: their tenant's, or the system's for a batch of several.
    static func scope(of records: [(tenantID: String, record: AuditRecord)]) -> SQLScope {
        guard let first = records.first?.tenantID, records.allSatisfy({ $0.tenantID == first }) else { return .system }
        return .tenant(first)
    }

    /// Appends inside an existing transaction opened in `scope`, widening it first if `records` need it.
    static func append(
        _ records: [(tenantID: String, record: AuditRecord)], in tx: any SQLExecutor, dialect: SQLDialect, scope: SQLScope
    ) async throws -> [AuditEntry] {
        let needed = Self.scope(of: records)
        if scope != .system, needed != scope { try await needed.enter(on: tx, dialect: dialect) }
        var heads: [String: (Int64, [UInt8])] = [:]
        // Heads are locked in one order (sorted tenant ids) by every batch on every instance, so two
        // batches holding different tenants' heads never wait on each other (no deadlock).
        for tenantID in Set(records.map(\.tenantID)).sorted() {
            heads[tenantID] = try await lockHead(tenantID, in: tx, dialect: dialect)
        }
        var entries: [AuditEntry] = []
        entries.reserveCapacity(records.count)
        for (tenantID, record) in records {
            guard var head = heads[tenantID] else { throw CofferError(.storageUnavailable, "audit head vanished") }
            let entry = AuditChain.append(tenantID: tenantID, after: head.0, previousHash: head.1, record: record)
            head = (entry.sequence, entry.entryHash)
            heads[tenantID] = head
            entries.append(entry)
        }
        // Multi-row inserts: one statement (one thread-pool hop, one prepare) per 50 entries.
        for start in stride(from: 0, to: entries.count, by: 50) {
            let chunk = zip(entries[start..<min(start + 50, entries.count)], records[start..<min(start + 50, records.count)])
            var binds: [SQLValue] = []
            var rows: [String] = []
            for (entry, item) in chunk {
                let base = binds.count
                rows.append("(" + (1...10).map { "$\(base + $0)" }.joined(separator: ", ") + ")")
                binds += [
                    .text(entry.tenantID), .int(entry.sequence), .int(item.record.time), .text(item.record.actor.id), .text(item.record.operation),
                    .int(Int64(item.record.status)), .text(item.record.requestID), .blob(entry.canonical), .blob(entry.previousHash),
                    .blob(entry.entryHash),
                ]
            }
            try await tx.query(
                """
                INSERT INTO audit_entries (tenant_id, sequence, created_at, actor_id, operation, status, request_id, canonical, previous_hash, entry_hash)
                VALUES \(rows.joined(separator: ", "))
                """, binds)
        }
        for (tenantID, head) in heads {
            try await tx.query(
                "UPDATE audit_heads SET sequence = $2, head_hash = $3 WHERE tenant_id = $1", [.text(tenantID), .int(head.0), .blob(head.1)])
        }
        return entries
    }

    static func lockHead(_ tenantID: String, in tx: any SQLExecutor, dialect: SQLDialect) async throws -> (Int64, [UInt8]) {
        let lock = dialect == .postgres ? " FOR UPDATE" : ""
        let select = "SELECT sequence, head_hash FROM audit_heads WHERE tenant_id = $1" + lock
        // The head row exists after a tenant's first entry: lock it in one round-trip, create it only once.
        if let row = try await tx.query(select, [.text(tenantID)]).first { return (try row.int("sequence"), try row.blob("head_hash")) }
        try await tx.query(
            "INSERT INTO audit_heads (tenant_id, sequence, head_hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING",
            [.text(tenantID), .blob(AuditChain.genesis)])
        guard let row = try await tx.query(select, [.text(tenantID)]).first else {
            throw CofferError(.storageUnavailable, "audit head vanished")
        }
        return (try row.int("sequence"), try row.blob("head_hash"))
    }

    func head(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8]) {
        guard
            let row = try await db.query(in: .tenant(tenantID), "SELECT sequence, head_hash FROM audit_heads WHERE tenant_id = $1", [.text(tenantID)])
                .first
        else {
            return (0, AuditChain.genesis)
        }
        return (try row.int("sequence"), try row.blob("head_hash"))
    }

    func anchor(tenantID: String) async throws -> (sequence: Int64, hash: [UInt8])? {
        guard
            let row = try await db.query(in: .tenant(tenantID), "SELECT sequence, hash FROM audit_anchors WHERE tenant_id = $1", [.text(tenantID)])
                .first
        else {
            return nil
        }
        return (try row.int("sequence"), try row.blob("hash"))
    }

    func entries(tenantID: String, after sequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM audit_entries WHERE tenant_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3",
            [.text(tenantID), .int(sequence), .int(Int64(limit))]
        ).map(Self.decode)
    }

    func query(tenantID: String, _ query: AuditQuery) async throws -> [AuditEntry] {
        var sql = "SELECT \(Self.columns) FROM audit_entries WHERE tenant_id = $1 AND sequence > $2"
        var binds: [SQLValue] = [.text(tenantID), .int(query.afterSequence)]
        func add(_ fragment: String, _ value: SQLValue) {
            binds.append(value)
            sql += " AND " + fragment.replacingOccurrences(of: "?", with: "$\(binds.count)")
        }
        if let since = query.since { add("created_at >= ?", .int(since)) }
        if let until = query.until { add("created_at < ?", .int(until)) }
        if let actor = query.actorID { add("actor_id = ?", .text(actor)) }
        if let operation = query.operation { add("operation = ?", .text(operation)) }
        if let requestID = query.requestID { add("request_id = ?", .text(requestID)) }
        if let succeeded = query.succeeded {
            sql += succeeded ? " AND status >= 200 AND status < 300" : " AND (status < 200 OR status >= 300)"
        }
        binds.append(.int(Int64(max(1, min(query.limit, 1000)))))
        sql += " ORDER BY sequence LIMIT $\(binds.count)"
        return try await db.query(in: .tenant(tenantID), sql, binds).map(Self.decode)
    }

    func entryHash(tenantID: String, sequence: Int64) async throws -> [UInt8]? {
        try await db.query(
            in: .tenant(tenantID), "SELECT entry_hash FROM audit_entries WHERE tenant_id = $1 AND sequence = $2", [.text(tenantID), .int(sequence)]
        )
        .first.map { try $0.blob("entry_hash") }
    }

    func deleteBefore(
        tenantID: String, before: Int64, describe: @escaping @Sendable (AuditRetentionResult) -> AuditRecord
    ) async throws -> AuditRetentionResult {
        let dialect = db.dialect
        // Deleting a long prefix is bulk maintenance in a background job: no deadline.
        return try await db.transaction(in: .tenant(tenantID), within: nil) { tx in
            let head = try await Self.lockHead(tenantID, in: tx, dialect: dialect)
            let firstKept = try await tx.query(
                "SELECT MIN(sequence) AS s FROM audit_entries WHERE tenant_id = $1 AND created_at >= $2", [.text(tenantID), .int(before)]
            ).first.flatMap { try $0.optionalInt("s") }
            let cut = (firstKept ?? head.0 + 1) - 1
            let existing = try await tx.query("SELECT sequence, hash FROM audit_anchors WHERE tenant_id = $1", [.text(tenantID)]).first
            let anchored = try existing?.int("sequence") ?? 0
            guard cut > anchored,
                let hashRow = try await tx.query(
                    "SELECT entry_hash FROM audit_entries WHERE tenant_id = $1 AND sequence = $2", [.text(tenantID), .int(cut)]
                ).first
            else {
                let result = AuditRetentionResult(deleted: 0, cutSequence: anchored, hashAtCut: try existing?.blob("hash") ?? AuditChain.genesis)
                _ = try await Self.append([(tenantID, describe(result))], in: tx, dialect: dialect, scope: .tenant(tenantID))
                return result
            }
            let hashAtCut = try hashRow.blob("entry_hash")
            try await AuditSchema.openGate(tx, dialect: dialect)
            let deleted = try await tx.query(
                "DELETE FROM audit_entries WHERE tenant_id = $1 AND sequence <= $2 RETURNING sequence", [.text(tenantID), .int(cut)]
            ).count
            try await tx.query("DELETE FROM audit_anchors WHERE tenant_id = $1", [.text(tenantID)])
            try await tx.query(
                "INSERT INTO audit_anchors (tenant_id, sequence, hash, created_at) VALUES ($1, $2, $3, $4)",
                [.text(tenantID), .int(cut), .blob(hashAtCut), .int(SystemClock().nowMillis)])
            try await AuditSchema.closeGate(tx, dialect: dialect)
            let result = AuditRetentionResult(deleted: deleted, cutSequence: cut, hashAtCut: hashAtCut)
            _ = try await Self.append([(tenantID, describe(result))], in: tx, dialect: dialect, scope: .tenant(tenantID))
            return result
        }
    }

    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        let dialect = db.dialect
        try await db.transaction(in: .tenant(checkpoint.tenantID)) { tx in
            try await AuditSchema.openGate(tx, dialect: dialect)
            try await tx.query(
                """
                INSERT INTO audit_checkpoints (tenant_id, sequence, head_hash, created_at, signature, public_key) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (tenant_id, sequence) DO NOTHING
                """,
                [
                    .text(checkpoint.tenantID), .int(checkpoint.sequence), .blob(checkpoint.headHash), .int(checkpoint.time),
                    .blob(checkpoint.signature), .blob(checkpoint.publicKey),
                ])
            try await AuditSchema.closeGate(tx, dialect: dialect)
        }
    }

    func checkpoints(tenantID: String) async throws -> [AuditCheckpoint] {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY sequence", [.text(tenantID)]).map {
            row in
            AuditCheckpoint(
                tenantID: try row.text("tenant_id"), sequence: try row.int("sequence"), headHash: try row.blob("head_hash"),
                time: try row.int("created_at"), signature: try row.blob("signature"), publicKey: try row.blob("public_key"))
        }
    }

    static let columns = "tenant_id, sequence, created_at, actor_id, operation, status, request_id, canonical, previous_hash, entry_hash"

    static func decode(_ row: SQLRow) throws -> AuditEntry {
        AuditEntry(
            tenantID: try row.text("tenant_id"), sequence: try row.int("sequence"), canonical: try row.blob("canonical"),
            previousHash: try row.blob("previous_hash"), entryHash: try row.blob("entry_hash"),
            columns: AuditColumns(
                time: try row.int("created_at"), actorID: try row.text("actor_id"), operation: try row.text("operation"),
                status: Int(try row.int("status")), requestID: try row.text("request_id")))
    }
}

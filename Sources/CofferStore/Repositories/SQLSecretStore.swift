import CofferCore
import Foundation

/// KV storage. On single-instance storage, metadata and versions (sealed) are cached by path, and
/// every write drops the caches once it has committed.
struct SQLSecretStore: SecretStore {
    let db: WorkDatabase
    var metadataCache: RecordCache<PlaceKey, SecretMetadata>?
    var versionsCache: RecordCache<PlaceKey, [SecretVersion]>?

    func metadata(tenantID: String, mount: String, path: String) async throws -> SecretMetadata? {
        let load = {
            try await db.transaction(in: .tenant(tenantID)) { tx in
                try await Self.metadata(tx, tenantID: tenantID, mount: mount, path: path, lock: "")
            }
        }
        guard let metadataCache else { return try await load() }
        return try await metadataCache.load(PlaceKey(tenantID: tenantID, space: mount, name: path), load)
    }

    /// A write transaction with its unit of work; the caches are dropped after it (also when it failed:
    /// it may have committed before failing).
    func transaction<T: Sendable>(
        _ work: UnitOfWork, tenantID: String, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        defer {
            metadataCache?.invalidateAll()
            versionsCache?.invalidateAll()
        }
        return try await db.transaction(work, in: .tenant(tenantID), body)
    }

    static func metadata(_ executor: any SQLExecutor, tenantID: String, mount: String, path: String, lock: String) async throws -> SecretMetadata? {
        try await executor.query(
            "SELECT * FROM kv_metadata WHERE tenant_id = $1 AND mount = $2 AND path = $3" + lock,
            [.text(tenantID), .text(mount), .text(path)]
        ).first.map(decodeMetadata)
    }

    func versions(tenantID: String, mount: String, path: String) async throws -> [SecretVersion] {
        let load = {
            try await db.query(
                in: .tenant(tenantID),
                "SELECT * FROM kv_versions WHERE tenant_id = $1 AND mount = $2 AND path = $3 ORDER BY version",
                [.text(tenantID), .text(mount), .text(path)]
            ).map(Self.decodeVersion)
        }
        guard let versionsCache else { return try await load() }
        return try await versionsCache.load(PlaceKey(tenantID: tenantID, space: mount, name: path), load) ?? []
    }

    func write(
        tenantID: String, mount: String, path: String, _ write: SecretWrite, at time: Int64, in work: UnitOfWork
    ) async throws -> (SecretMetadata, SecretVersion) {
        let lock = db.forUpdate
        return try await transaction(work, tenantID: tenantID) { tx in
            let key: [SQLValue] = [.text(tenantID), .text(mount), .text(path)]
            // Create the row if absent (racing creators both succeed), then lock it.
            try await tx.query(
                """
                INSERT INTO kv_metadata (tenant_id, mount, path, current_version, oldest_version, max_versions, cas_required,
                  delete_version_after, custom_metadata, created_at, updated_at) VALUES ($1, $2, $3, 0, 0, 0, 0, 0, '{}', $4, $4)
                ON CONFLICT (tenant_id, mount, path) DO NOTHING
                """, key + [.int(time)])
            let metadata = try await Self.metadata(tx, tenantID: tenantID, mount: mount, path: path, lock: lock)
            guard var metadata else { throw CofferError(.internalError, "metadata vanished") }
            try write.admit(metadata)
            let version = metadata.currentVersion + 1
            let blob = try write.seal(version)
            let refs = String(decoding: try JSONEncoder().encode(write.references), as: UTF8.self)
            try await tx.query(
                """
                INSERT INTO kv_versions (tenant_id, mount, path, version, created_at, deleted_at, destroyed, blob, key_version, references_json)
                VALUES ($1, $2, $3, $4, $5, NULL, 0, $6, $7, $8)
                """, key + [.int(Int64(version)), .int(time), .blob(blob), .int(Int64(write.keyVersion)), .text(refs)])
            let oldest = write.oldestKept(metadata, version)
            try await tx.query(
                "DELETE FROM kv_versions WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version < $4", key + [.int(Int64(oldest))])
            try await tx.query(
                "UPDATE kv_metadata SET current_version = $4, oldest_version = $5, updated_at = $6 WHERE tenant_id = $1 AND mount = $2 AND path = $3",
                key + [.int(Int64(version)), .int(Int64(oldest)), .int(time)])
            metadata.currentVersion = version
            metadata.oldestVersion = oldest
            metadata.updatedAt = time
            return (
                metadata, SecretVersion(version: version, createdAt: time, blob: blob, keyVersion: write.keyVersion, references: write.references)
            )
        }
    }

    func setDeletion(tenantID: String, mount: String, path: String, versions: [Int], deletedAt: Int64?, in work: UnitOfWork) async throws -> Int {
        guard !versions.isEmpty else { return 0 }
        return try await transaction(work, tenantID: tenantID) { tx in
            var changed = 0
            for version in Set(versions) {
                let sql =
                    deletedAt == nil
                    ? "UPDATE kv_versions SET deleted_at = NULL WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version = $4 AND destroyed = 0 AND deleted_at IS NOT NULL RETURNING version"
                    : "UPDATE kv_versions SET deleted_at = $5 WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version = $4 AND destroyed = 0 AND deleted_at IS NULL RETURNING version"
                var binds: [SQLValue] = [.text(tenantID), .text(mount), .text(path), .int(Int64(version))]
                if let deletedAt { binds.append(.int(deletedAt)) }
                changed += try await tx.query(sql, binds).count
            }
            return changed
        }
    }

    func dueVersions(tenantID: String, now: Int64, limit: Int) async throws -> [DueVersion] {
        let due =
            "v.created_at + (CASE WHEN m.delete_version_after > 0 THEN m.delete_version_after ELSE COALESCE(mt.kv_delete_version_after, 0) END) * 1000"
        return try await db.query(
            in: .tenant(tenantID),
            """
            SELECT v.mount, v.path, v.version, \(due) AS due_at FROM kv_versions v
            JOIN kv_metadata m ON m.tenant_id = v.tenant_id AND m.mount = v.mount AND m.path = v.path
            LEFT JOIN mounts mt ON mt.tenant_id = v.tenant_id AND mt.path = v.mount
            WHERE v.tenant_id = $1 AND v.deleted_at IS NULL AND v.destroyed = 0
              AND (m.delete_version_after > 0 OR COALESCE(mt.kv_delete_version_after, 0) > 0) AND \(due) <= $2
            ORDER BY v.mount, v.path, v.version LIMIT $3
            """, [.text(tenantID), .int(now), .int(Int64(limit))]
        ).map {
            DueVersion(mount: try $0.text("mount"), path: try $0.text("path"), version: Int(try $0.int("version")), dueAt: try $0.int("due_at"))
        }
    }

    func softDelete(tenantID: String, _ versions: [DueVersion], in work: UnitOfWork) async throws -> Int {
        guard !versions.isEmpty else { return 0 }
        return try await transaction(work, tenantID: tenantID) { tx in
            var changed = 0
            for due in versions {
                changed += try await tx.query(
                    """
                    UPDATE kv_versions SET deleted_at = $5 WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version = $4
                      AND deleted_at IS NULL AND destroyed = 0 RETURNING version
                    """, [.text(tenantID), .text(due.mount), .text(due.path), .int(Int64(due.version)), .int(due.dueAt)]
                ).count
            }
            return changed
        }
    }

    func destroy(tenantID: String, mount: String, path: String, versions: [Int], in work: UnitOfWork) async throws -> Int {
        guard !versions.isEmpty else { return 0 }
        return try await transaction(work, tenantID: tenantID) { tx in
            var changed = 0
            for version in Set(versions) {
                changed += try await tx.query(
                    "UPDATE kv_versions SET destroyed = 1, blob = NULL WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version = $4 AND destroyed = 0 RETURNING version",
                    [.text(tenantID), .text(mount), .text(path), .int(Int64(version))]
                ).count
            }
            return changed
        }
    }

    func updateMetadata(
        tenantID: String, mount: String, path: String, _ update: SecretMetadataUpdate, at time: Int64, in work: UnitOfWork
    ) async throws -> SecretMetadata {
        let lock = db.forUpdate
        return try await transaction(work, tenantID: tenantID) { tx in
            let key: [SQLValue] = [.text(tenantID), .text(mount), .text(path)]
            let existing = try await Self.metadata(tx, tenantID: tenantID, mount: mount, path: path, lock: lock)
            var metadata = existing ?? SecretMetadata(tenantID: tenantID, mount: mount, path: path, createdAt: time, updatedAt: time)
            if let value = update.maxVersions { metadata.maxVersions = value }
            if let value = update.casRequired { metadata.casRequired = value }
            if let value = update.deleteVersionAfterSeconds { metadata.deleteVersionAfterSeconds = value }
            if let value = update.customMetadata { metadata.customMetadata = value }
            metadata.updatedAt = time
            let custom = String(decoding: try JSONEncoder().encode(metadata.customMetadata), as: UTF8.self)
            let values: [SQLValue] = [
                .int(Int64(metadata.maxVersions)), .bool(metadata.casRequired), .int(metadata.deleteVersionAfterSeconds), .text(custom), .int(time),
            ]
            if existing != nil {
                try await tx.query(
                    """
                    UPDATE kv_metadata SET max_versions = $4, cas_required = $5, delete_version_after = $6, custom_metadata = $7, updated_at = $8
                    WHERE tenant_id = $1 AND mount = $2 AND path = $3
                    """, key + values)
                return metadata
            }
            try await tx.query(
                """
                INSERT INTO kv_metadata (tenant_id, mount, path, current_version, oldest_version, max_versions, cas_required,
                  delete_version_after, custom_metadata, created_at, updated_at) VALUES ($1, $2, $3, 0, 0, $4, $5, $6, $7, $8, $8)
                """, key + values)
            return metadata
        }
    }

    func deleteAll(tenantID: String, mount: String, path: String, in work: UnitOfWork) async throws -> Bool {
        try await transaction(work, tenantID: tenantID) { tx in
            let key: [SQLValue] = [.text(tenantID), .text(mount), .text(path)]
            try await tx.query("DELETE FROM kv_versions WHERE tenant_id = $1 AND mount = $2 AND path = $3", key)
            return !(try await tx.query("DELETE FROM kv_metadata WHERE tenant_id = $1 AND mount = $2 AND path = $3 RETURNING path", key)).isEmpty
        }
    }

    /// `substr` counts code points on both engines, so the prefix length is given in Unicode scalars.
    func paths(tenantID: String, mount: String, prefix: String) async throws -> [String] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT path FROM kv_metadata WHERE tenant_id = $1 AND mount = $2 AND substr(path, 1, CAST($3 AS INTEGER)) = $4 ORDER BY path",
            [.text(tenantID), .text(mount), .int(Int64(prefix.unicodeScalars.count)), .text(prefix)]
        ).map { try $0.text("path") }
    }

    func countVersions(tenantID: String, keyVersion: Int) async throws -> Int {
        let row = try await db.query(
            in: .tenant(tenantID),
            "SELECT COUNT(*) AS n FROM kv_versions WHERE tenant_id = $1 AND key_version = $2 AND destroyed = 0",
            [.text(tenantID), .int(Int64(keyVersion))]
        ).first
        return Int(try row?.int("n") ?? 0)
    }

    func versionsBelow(tenantID: String, keyVersion: Int, limit: Int) async throws -> [(mount: String, path: String, version: SecretVersion)] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT * FROM kv_versions WHERE tenant_id = $1 AND key_version < $2 AND destroyed = 0 ORDER BY mount, path, version LIMIT $3",
            [.text(tenantID), .int(Int64(keyVersion)), .int(Int64(limit))]
        ).map { row in (try row.text("mount"), try row.text("path"), try Self.decodeVersion(row)) }
    }

    func replaceBlob(
        tenantID: String, mount: String, path: String, version: Int, expectedKeyVersion: Int, blob: [UInt8], keyVersion: Int, in work: UnitOfWork
    ) async throws -> Bool {
        !(try await transaction(work, tenantID: tenantID) { tx in
            try await tx.query(
                """
                UPDATE kv_versions SET blob = $5, key_version = $6 WHERE tenant_id = $1 AND mount = $2 AND path = $3 AND version = $4
                  AND key_version = $7 AND destroyed = 0 RETURNING version
                """,
                [
                    .text(tenantID), .text(mount), .text(path), .int(Int64(version)), .blob(blob), .int(Int64(keyVersion)),
                    .int(Int64(expectedKeyVersion)),
                ]
            )
        }).isEmpty
    }

    func countVersionsBelow(tenantID: String, keyVersion: Int) async throws -> Int {
        let row = try await db.query(
            in: .tenant(tenantID),
            "SELECT COUNT(*) AS n FROM kv_versions WHERE tenant_id = $1 AND key_version < $2 AND destroyed = 0 AND blob IS NOT NULL",
            [.text(tenantID), .int(Int64(keyVersion))]
        ).first
        return Int(try row?.int("n") ?? 0)
    }

    /// Keyset paging over the primary key (tenant, mount, path, version): each page starts where the last
    /// ended, so a job over a million rows never rescans the rows it already did.
    func sealedVersions(tenantID: String, below keyVersion: Int, after cursor: KVCursor?, limit: Int) async throws -> [SealedVersion] {
        var binds: [SQLValue] = [.text(tenantID), .int(Int64(keyVersion)), .int(Int64(limit))]
        var after = ""
        if let cursor {
            after = " AND (mount, path, version) > ($4, $5, $6)"
            binds += [.text(cursor.mount), .text(cursor.path), .int(Int64(cursor.version))]
        }
        return try await db.query(
            in: .tenant(tenantID),
            """
            SELECT mount, path, version, key_version, blob FROM kv_versions
            WHERE tenant_id = $1\(after) AND key_version < $2 AND destroyed = 0 AND blob IS NOT NULL ORDER BY mount, path, version LIMIT $3
            """, binds
        ).map { row in
            SealedVersion(
                cursor: KVCursor(mount: try row.text("mount"), path: try row.text("path"), version: Int(try row.int("version"))),
                keyVersion: Int(try row.int("key_version")), blob: try row.blob("blob"))
        }
    }

    /// One multi-row `UPDATE … FROM (VALUES …)` per 500 rows (both engines name the VALUES columns
    /// `column1…`), all in one transaction.
    func replaceBlobs(tenantID: String, _ replacements: [BlobReplacement], keyVersion: Int) async throws -> Int {
        guard !replacements.isEmpty else { return 0 }
        let dialect = db.dialect
        return try await transaction(.unaudited(), tenantID: tenantID) { tx in
            var changed = 0
            var start = 0
            while start < replacements.count {
                let chunk = replacements[start..<min(start + 500, replacements.count)]
                var binds: [SQLValue] = [.text(tenantID), .int(Int64(keyVersion))]
                var rows: [String] = []
                binds.reserveCapacity(2 + chunk.count * 5)
                for item in chunk {
                    let first = binds.count + 1
                    rows.append("($\(first), $\(first + 1), $\(first + 2), $\(first + 3), $\(first + 4))")
                    binds += [
                        .text(item.cursor.mount), .text(item.cursor.path), .int(Int64(item.cursor.version)), .int(Int64(item.expectedKeyVersion)),
                        .blob(item.blob),
                    ]
                }
                let update = """
                    UPDATE kv_versions SET blob = v.column5, key_version = $2 FROM (VALUES \(rows.joined(separator: ", "))) AS v
                    WHERE kv_versions.tenant_id = $1 AND kv_versions.mount = v.column1 AND kv_versions.path = v.column2
                      AND kv_versions.version = v.column3 AND kv_versions.key_version = v.column4 AND kv_versions.destroyed = 0
                    """
                // The count of changed rows, not one row back per change (half the cost of a page on SQLite).
                if dialect == .postgres {
                    let counted = try await tx.query("WITH changed AS (\(update) RETURNING 1) SELECT COUNT(*) AS n FROM changed", binds)
                    changed += Int(try counted.first?.int("n") ?? 0)
                } else {
                    try await tx.query(update, binds)
                    changed += Int(try await tx.query("SELECT changes() AS n", []).first?.int("n") ?? 0)
                }
                start += chunk.count
            }
            return changed
        }
    }

    static func decodeMetadata(_ row: SQLRow) throws -> SecretMetadata {
        let custom = try row.json("custom_metadata", as: [String: String].self)
        return SecretMetadata(
            tenantID: try row.text("tenant_id"), mount: try row.text("mount"), path: try row.text("path"),
            currentVersion: Int(try row.int("current_version")), oldestVersion: Int(try row.int("oldest_version")),
            maxVersions: Int(try row.int("max_versions")), casRequired: try row.bool("cas_required"),
            deleteVersionAfterSeconds: try row.int("delete_version_after"), customMetadata: custom,
            createdAt: try row.int("created_at"), updatedAt: try row.int("updated_at"))
    }

    static func decodeVersion(_ row: SQLRow) throws -> SecretVersion {
        let refs = try row.json("references_json", as: [String: String].self)
        return SecretVersion(
            version: Int(try row.int("version")), createdAt: try row.int("created_at"), deletedAt: try row.optionalInt("deleted_at"),
            destroyed: try row.bool("destroyed"), blob: try row.optionalBlob("blob"), keyVersion: Int(try row.int("key_version")),
            references: refs)
    }
}

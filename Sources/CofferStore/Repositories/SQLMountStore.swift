import CofferCore

/// Mounts of each tenant. On single-instance storage, lookups are cached (misses included) and every
/// change drops the mount and KV caches once committed.
struct SQLMountStore: MountStore {
    let db: WorkDatabase
    var cache: RecordCache<PlaceKey, Mount>?
    var kvCaches: [@Sendable () -> Void] = []

    func mounts(tenantID: String) async throws -> [Mount] {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM mounts WHERE tenant_id = $1 ORDER BY path", [.text(tenantID)]).map(Self.decode)
    }

    func mount(tenantID: String, path: String) async throws -> Mount? {
        let load = {
            try await db.query(in: .tenant(tenantID), "SELECT * FROM mounts WHERE tenant_id = $1 AND path = $2", [.text(tenantID), .text(path)]).first
                .map(Self.decode)
        }
        guard let cache else { return try await load() }
        return try await cache.load(PlaceKey(tenantID: tenantID, space: "", name: path), load)
    }

    func insertMount(tenantID: String, _ mount: Mount, in work: UnitOfWork) async throws -> Bool {
        defer { invalidate() }
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            !(try await tx.query(
                """
                INSERT INTO mounts (tenant_id, path, type, description, kv_max_versions, kv_cas_required, kv_delete_version_after,
                  default_lease_ttl, max_lease_ttl, accessor, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (tenant_id, path) DO NOTHING RETURNING path
                """, Self.binds(tenantID, mount))).isEmpty
        }
    }

    func saveMount(tenantID: String, _ mount: Mount, in work: UnitOfWork) async throws {
        defer { invalidate() }
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO mounts (tenant_id, path, type, description, kv_max_versions, kv_cas_required, kv_delete_version_after,
                  default_lease_ttl, max_lease_ttl, accessor, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                ON CONFLICT (tenant_id, path) DO UPDATE SET description = excluded.description, kv_max_versions = excluded.kv_max_versions,
                  kv_cas_required = excluded.kv_cas_required, kv_delete_version_after = excluded.kv_delete_version_after,
                  default_lease_ttl = excluded.default_lease_ttl, max_lease_ttl = excluded.max_lease_ttl
                """, Self.binds(tenantID, mount))
        }
    }

    func secretCount(tenantID: String, path: String) async throws -> Int {
        let kv = try await db.query(
            in: .tenant(tenantID), "SELECT COUNT(*) AS n FROM kv_metadata WHERE tenant_id = $1 AND mount = $2", [.text(tenantID), .text(path)])
        let prefix = path + "/"
        // Transit keys of a mount are stored as `<mount>/<name>`; substr, not LIKE (`_` is a LIKE wildcard).
        let transit = try await db.query(
            in: .tenant(tenantID),
            "SELECT COUNT(*) AS n FROM transit_keys WHERE tenant_id = $1 AND substr(name, 1, CAST($2 AS INTEGER)) = $3",
            [.text(tenantID), .int(Int64(prefix.unicodeScalars.count)), .text(prefix)])
        return Int(try kv.first?.int("n") ?? 0) + Int(try transit.first?.int("n") ?? 0)
    }

    func deleteMount(tenantID: String, path: String, in work: UnitOfWork) async throws -> Int? {
        defer { invalidate() }
        return try await db.transaction(work, in: .tenant(tenantID)) { tx -> Int? in
            let key: [SQLValue] = [.text(tenantID), .text(path)]
            guard !(try await tx.query("DELETE FROM mounts WHERE tenant_id = $1 AND path = $2 RETURNING path", key)).isEmpty else { return nil }
            try await tx.query("DELETE FROM kv_versions WHERE tenant_id = $1 AND mount = $2", key)
            let prefix = path + "/"
            let keys = try await tx.query(
                "DELETE FROM transit_keys WHERE tenant_id = $1 AND substr(name, 1, CAST($2 AS INTEGER)) = $3 RETURNING name",
                [.text(tenantID), .int(Int64(prefix.unicodeScalars.count)), .text(prefix)]
            ).count
            return keys + (try await tx.query("DELETE FROM kv_metadata WHERE tenant_id = $1 AND mount = $2 RETURNING path", key).count)
        }
    }

    func invalidate() {
        cache?.invalidateAll()
        for drop in kvCaches { drop() }
    }

    static func binds(_ tenantID: String, _ mount: Mount) -> [SQLValue] {
        [
            .text(tenantID), .text(mount.path), .text(mount.kind.rawValue), .text(mount.description), .int(Int64(mount.kv.maxVersions)),
            .bool(mount.kv.casRequired), .int(mount.kv.deleteVersionAfterSeconds), .int(mount.defaultLeaseTTL), .int(mount.maxLeaseTTL),
            .text(mount.accessor), .int(mount.createdAt),
        ]
    }

    /// Rows written by another version, or edited, fail closed (`STORAGE_CORRUPT`), never a default.
    static func decode(_ row: SQLRow) throws -> Mount {
        let kind = try row.known("type", as: Mount.Kind.self)
        let maxVersions = try row.int("kv_max_versions")
        let deleteAfter = try row.int("kv_delete_version_after")
        guard (0...Int64(Int32.max)).contains(maxVersions), deleteAfter >= 0 else {
            throw CofferError(.storageCorrupt, "a stored mount is malformed")
        }
        return Mount(
            path: try row.text("path"), kind: kind, description: try row.text("description"),
            kv: KVMountConfig(maxVersions: Int(maxVersions), casRequired: try row.bool("kv_cas_required"), deleteVersionAfterSeconds: deleteAfter),
            defaultLeaseTTL: try row.int("default_lease_ttl"), maxLeaseTTL: try row.int("max_lease_ttl"), accessor: try row.text("accessor"),
            createdAt: try row.int("created_at"))
    }
}

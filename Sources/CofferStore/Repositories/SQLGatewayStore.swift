import CofferCore

/// Gateway projects, nonces, suspensions and assets. On single-instance storage, project documents and
/// suspensions (absent ones too) are cached, and every change to them drops the cache once committed.
struct SQLGatewayStore: GatewayStore {
    let db: WorkDatabase
    var projectCache: RecordCache<PlaceKey, String>?
    var suspensionCache: RecordCache<PlaceKey, GatewaySuspensionRecord>?

    func project(tenantID: String, name: String) async throws -> String? {
        let load = {
            try await db.query(
                in: .tenant(tenantID), "SELECT document FROM gateway_projects WHERE tenant_id = $1 AND name = $2", [.text(tenantID), .text(name)]
            )
            .first?.text("document")
        }
        guard let projectCache else { return try await load() }
        return try await projectCache.load(PlaceKey(tenantID: tenantID, space: "", name: name), load)
    }

    /// A write transaction that changes projects or suspensions; the caches are dropped after it.
    func changing<T: Sendable>(
        _ work: UnitOfWork, tenantID: String, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        defer {
            projectCache?.invalidateAll()
            suspensionCache?.invalidateAll()
        }
        return try await db.transaction(work, in: .tenant(tenantID), body)
    }

    func projectNames(tenantID: String) async throws -> [String] {
        try await db.query(in: .tenant(tenantID), "SELECT name FROM gateway_projects WHERE tenant_id = $1 ORDER BY name", [.text(tenantID)]).map {
            try $0.text("name")
        }
    }

    @discardableResult
    func putProject(tenantID: String, name: String, document: String, at time: Int64, in work: UnitOfWork) async throws -> Bool {
        try await changing(work, tenantID: tenantID) { tx in
            let updated = try await tx.query(
                "UPDATE gateway_projects SET document = $3, updated_at = $4 WHERE tenant_id = $1 AND name = $2 RETURNING name",
                [.text(tenantID), .text(name), .text(document), .int(time)])
            guard updated.isEmpty else { return true }
            try await tx.query(
                "INSERT INTO gateway_projects (tenant_id, name, document, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                [.text(tenantID), .text(name), .text(document), .int(time)])
            return false
        }
    }

    func deleteProject(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool {
        !(try await changing(work, tenantID: tenantID) { tx in
            try await tx.query("DELETE FROM gateway_assets WHERE tenant_id = $1 AND project = $2", [.text(tenantID), .text(name)])
            try await tx.query("DELETE FROM gateway_managed_keys WHERE tenant_id = $1 AND project = $2", [.text(tenantID), .text(name)])
            return try await tx.query(
                "DELETE FROM gateway_projects WHERE tenant_id = $1 AND name = $2 RETURNING name", [.text(tenantID), .text(name)])
        }).isEmpty
    }
}

extension SQLGatewayStore {
    /// One statement per chunk of 100 (a multi-row upsert that renews only expired nonces and returns
    /// what it inserted or renewed), in one transaction.
    func rememberNonces(_ items: [NonceCommitter.Item], now: Int64) async throws -> [Bool] {
        struct Key: Hashable {
            let tenantID: String
            let scope: String
            let nonce: String
        }
        var firsts: [Int] = []
        var seen: Set<Key> = []
        for (index, item) in items.enumerated() where seen.insert(Key(tenantID: item.tenantID, scope: item.scope, nonce: item.nonce)).inserted {
            firsts.append(index)
        }
        let unique = firsts.map { items[$0] }
        // A batch names nonces of any tenant.
        let inserted = try await db.transaction(in: .system) { tx -> Set<Key> in
            var inserted: Set<Key> = []
            for start in stride(from: 0, to: unique.count, by: 100) {
                let chunk = unique[start..<min(start + 100, unique.count)]
                // One upsert: a new nonce is inserted, an expired one renewed, a live one left alone (and not returned).
                var rows: [String] = []
                var values: [SQLValue] = [.int(now)]
                for item in chunk {
                    let base = values.count
                    values += [.text(item.tenantID), .text(item.scope), .text(item.nonce), .int(item.expiresAt)]
                    rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
                }
                let returned = try await tx.query(
                    """
                    INSERT INTO gateway_nonces (tenant_id, scope, nonce, expires_at) VALUES \(rows.joined(separator: ", "))
                    ON CONFLICT (tenant_id, scope, nonce) DO UPDATE SET expires_at = excluded.expires_at WHERE gateway_nonces.expires_at < $1
                    RETURNING tenant_id, scope, nonce
                    """, values)
                for row in returned {
                    inserted.insert(Key(tenantID: try row.text("tenant_id"), scope: try row.text("scope"), nonce: try row.text("nonce")))
                }
            }
            return inserted
        }
        let firstSet = Set(firsts)
        return items.enumerated().map { index, item in
            firstSet.contains(index) && inserted.contains(Key(tenantID: item.tenantID, scope: item.scope, nonce: item.nonce))
        }
    }

    @discardableResult
    func sweepNonces(now: Int64) async throws -> Int {
        try await db.transaction(in: .system) { tx in
            try await tx.query("DELETE FROM gateway_nonces WHERE expires_at < $1 RETURNING nonce", [.int(now)]).count
        }
    }
}

extension SQLGatewayStore {
    func suspension(tenantID: String, project: String, client: String) async throws -> (until: Int64, reason: String)? {
        let load = { () async throws -> GatewaySuspensionRecord? in
            guard
                let row = try await db.query(
                    in: .tenant(tenantID),
                    "SELECT until_at, reason FROM gateway_suspensions WHERE tenant_id = $1 AND project = $2 AND client = $3",
                    [.text(tenantID), .text(project), .text(client)]
                ).first
            else { return nil }
            return GatewaySuspensionRecord(until: try row.int("until_at"), reason: try row.text("reason"))
        }
        let record =
            if let suspensionCache {
                try await suspensionCache.load(PlaceKey(tenantID: tenantID, space: project, name: client), load)
            } else {
                try await load()
            }
        return record.map { ($0.until, $0.reason) }
    }

    func suspend(tenantID: String, project: String, client: String, until: Int64, reason: String, at time: Int64, in work: UnitOfWork) async throws {
        try await changing(work, tenantID: tenantID) { tx in
            try await tx.query(
                "DELETE FROM gateway_suspensions WHERE tenant_id = $1 AND project = $2 AND client = $3",
                [.text(tenantID), .text(project), .text(client)])
            try await tx.query(
                "INSERT INTO gateway_suspensions (tenant_id, project, client, until_at, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                [.text(tenantID), .text(project), .text(client), .int(until), .text(reason), .int(time)])
        }
    }

    func liftSuspension(tenantID: String, project: String, client: String, in work: UnitOfWork) async throws -> Bool {
        !(try await changing(work, tenantID: tenantID) { tx in
            try await tx.query(
                "DELETE FROM gateway_suspensions WHERE tenant_id = $1 AND project = $2 AND client = $3 RETURNING client",
                [.text(tenantID), .text(project), .text(client)])
        }).isEmpty
    }

    func suspensions(tenantID: String, project: String) async throws -> [(client: String, until: Int64, reason: String)] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT client, until_at, reason FROM gateway_suspensions WHERE tenant_id = $1 AND project = $2 ORDER BY client",
            [.text(tenantID), .text(project)]
        ).map { (try $0.text("client"), try $0.int("until_at"), try $0.text("reason")) }
    }
}

extension SQLGatewayStore {
    @discardableResult
    func putAsset(tenantID: String, project: String, _ asset: GatewayAsset, sealed: [UInt8], in work: UnitOfWork) async throws -> Bool {
        let keyVersion = Int64(SealedBox.keyVersion(of: sealed) ?? 0)
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            let updated = try await tx.query(
                """
                UPDATE gateway_assets SET content_type = $4, require_token = $5, sha256 = $6, size = $7, key_version = $8, sealed = $9,
                  updated_at = $10 WHERE tenant_id = $1 AND project = $2 AND name = $3 RETURNING name
                """,
                [
                    .text(tenantID), .text(project), .text(asset.name), .text(asset.contentType), .bool(asset.requireToken), .blob(asset.sha256),
                    .int(Int64(asset.size)), .int(keyVersion), .blob(sealed), .int(asset.updatedAt),
                ])
            guard updated.isEmpty else { return true }
            try await tx.query(
                """
                INSERT INTO gateway_assets (tenant_id, project, name, content_type, require_token, sha256, size, key_version, sealed,
                  created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                """,
                [
                    .text(tenantID), .text(project), .text(asset.name), .text(asset.contentType), .bool(asset.requireToken), .blob(asset.sha256),
                    .int(Int64(asset.size)), .int(keyVersion), .blob(sealed), .int(asset.createdAt), .int(asset.updatedAt),
                ])
            return false
        }
    }

    static let assetColumns = "name, content_type, require_token, sha256, size, created_at, updated_at"

    static func asset(_ row: SQLRow) throws -> GatewayAsset {
        GatewayAsset(
            name: try row.text("name"), contentType: try row.text("content_type"), requireToken: try row.bool("require_token"),
            sha256: try row.blob("sha256"), size: Int(try row.int("size")), createdAt: try row.int("created_at"),
            updatedAt: try row.int("updated_at"))
    }

    func asset(tenantID: String, project: String, name: String) async throws -> (GatewayAsset, sealed: [UInt8])? {
        guard
            let row = try await db.query(
                in: .tenant(tenantID),
                "SELECT \(Self.assetColumns), sealed FROM gateway_assets WHERE tenant_id = $1 AND project = $2 AND name = $3",
                [.text(tenantID), .text(project), .text(name)]
            ).first
        else { return nil }
        return (try Self.asset(row), try row.blob("sealed"))
    }

    func assets(tenantID: String, project: String) async throws -> [GatewayAsset] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT \(Self.assetColumns) FROM gateway_assets WHERE tenant_id = $1 AND project = $2 ORDER BY name",
            [.text(tenantID), .text(project)]
        ).map(Self.asset)
    }

    func deleteAsset(tenantID: String, project: String, name: String, in work: UnitOfWork) async throws -> Bool {
        !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                "DELETE FROM gateway_assets WHERE tenant_id = $1 AND project = $2 AND name = $3 RETURNING name",
                [.text(tenantID), .text(project), .text(name)])
        }).isEmpty
    }

    func assetsSealedBefore(tenantID: String, keyVersion: Int, limit: Int) async throws -> [(project: String, name: String)] {
        try await db.query(
            in: .tenant(tenantID),
            "SELECT project, name FROM gateway_assets WHERE tenant_id = $1 AND key_version < $2 ORDER BY project, name LIMIT $3",
            [.text(tenantID), .int(Int64(keyVersion)), .int(Int64(limit))]
        ).map { (try $0.text("project"), try $0.text("name")) }
    }

    func resealAsset(tenantID: String, project: String, name: String, expected: [UInt8], sealed: [UInt8], in work: UnitOfWork) async throws -> Bool {
        let keyVersion = Int64(SealedBox.keyVersion(of: sealed) ?? 0)
        return
            !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
                try await tx.query(
                    """
                    UPDATE gateway_assets SET sealed = $5, key_version = $6 WHERE tenant_id = $1 AND project = $2 AND name = $3 AND sealed = $4
                    RETURNING name
                    """,
                    [.text(tenantID), .text(project), .text(name), .blob(expected), .blob(sealed), .int(keyVersion)])
            }).isEmpty
    }
}

extension SQLGatewayStore {
    func managedKey(tenantID: String, project: String) async throws -> ManagedKeyRecord? {
        guard
            let row = try await db.query(
                in: .tenant(tenantID),
                "SELECT key_id, sealed, rotates_at FROM gateway_managed_keys WHERE tenant_id = $1 AND project = $2",
                [.text(tenantID), .text(project)]
            ).first
        else { return nil }
        return ManagedKeyRecord(keyID: try row.text("key_id"), sealed: try row.blob("sealed"), rotatesAt: try row.int("rotates_at"))
    }

    func putManagedKey(
        tenantID: String, project: String, _ record: ManagedKeyRecord, replacing expectedKeyID: String?, in work: UnitOfWork
    )
        async throws -> Bool
    {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            if let expectedKeyID {
                return
                    !(try await tx.query(
                        """
                        UPDATE gateway_managed_keys SET key_id = $3, sealed = $4, rotates_at = $5 WHERE tenant_id = $1 AND project = $2 AND key_id = $6
                        RETURNING key_id
                        """,
                        [.text(tenantID), .text(project), .text(record.keyID), .blob(record.sealed), .int(record.rotatesAt), .text(expectedKeyID)]
                    )).isEmpty
            }
            return
                !(try await tx.query(
                    """
                    INSERT INTO gateway_managed_keys (tenant_id, project, key_id, sealed, rotates_at) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (tenant_id, project) DO NOTHING RETURNING key_id
                    """,
                    [.text(tenantID), .text(project), .text(record.keyID), .blob(record.sealed), .int(record.rotatesAt)]
                )).isEmpty
        }
    }
}

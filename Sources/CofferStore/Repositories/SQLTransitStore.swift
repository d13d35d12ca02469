import CofferCore

struct SQLTransitStore: TransitStore {
    let db: WorkDatabase

    func sealedKey(tenantID: String, name: String) async throws -> [UInt8]? {
        try await db.query(
            in: .tenant(tenantID), "SELECT sealed FROM transit_keys WHERE tenant_id = $1 AND name = $2", [.text(tenantID), .text(name)]
        ).first?.blob("sealed")
    }

    func keyNames(tenantID: String) async throws -> [String] {
        try await db.query(in: .tenant(tenantID), "SELECT name FROM transit_keys WHERE tenant_id = $1 ORDER BY name", [.text(tenantID)]).map {
            try $0.text("name")
        }
    }

    func createKey(tenantID: String, name: String, sealed: [UInt8], at time: Int64, in work: UnitOfWork) async throws -> Bool {
        do {
            try await db.transaction(work, in: .tenant(tenantID)) { tx in
                try await tx.query(
                    "INSERT INTO transit_keys (tenant_id, name, sealed, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)",
                    [.text(tenantID), .text(name), .blob(sealed), .int(time)])
            }
            return true
        } catch is StorageConstraintError {
            return false
        }
    }

    func updateKey(
        tenantID: String, name: String, at time: Int64, in work: UnitOfWork, _ transform: @escaping @Sendable ([UInt8]) async throws -> [UInt8]
    ) async throws -> Bool {
        let lock = db.forUpdate
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            guard
                let current = try await tx.query(
                    "SELECT sealed FROM transit_keys WHERE tenant_id = $1 AND name = $2" + lock, [.text(tenantID), .text(name)]
                ).first?.blob("sealed")
            else { return false }
            let next = try await transform(current)
            try await tx.query(
                "UPDATE transit_keys SET sealed = $3, updated_at = $4 WHERE tenant_id = $1 AND name = $2",
                [.text(tenantID), .text(name), .blob(next), .int(time)])
            return true
        }
    }

    func deleteKey(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool {
        !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query("DELETE FROM transit_keys WHERE tenant_id = $1 AND name = $2 RETURNING name", [.text(tenantID), .text(name)])
        }).isEmpty
    }

    func policy(tenantID: String, name: String) async throws -> String? {
        try await db.query(
            in: .tenant(tenantID), "SELECT document FROM protect_policies WHERE tenant_id = $1 AND name = $2", [.text(tenantID), .text(name)]
        ).first?
        .text("document")
    }

    func putPolicy(tenantID: String, name: String, document: String, at time: Int64, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO protect_policies (tenant_id, name, document, updated_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id, name) DO UPDATE SET document = $3, updated_at = $4
                """, [.text(tenantID), .text(name), .text(document), .int(time)])
        }
    }

    func policyNames(tenantID: String) async throws -> [String] {
        try await db.query(in: .tenant(tenantID), "SELECT name FROM protect_policies WHERE tenant_id = $1 ORDER BY name", [.text(tenantID)]).map {
            try $0.text("name")
        }
    }

    func deletePolicy(tenantID: String, name: String, in work: UnitOfWork) async throws -> Bool {
        !(try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query("DELETE FROM protect_policies WHERE tenant_id = $1 AND name = $2 RETURNING name", [.text(tenantID), .text(name)])
        }).isEmpty
    }
}

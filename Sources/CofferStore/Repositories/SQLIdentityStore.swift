import CofferCore

/// Auth methods, their users and roles, AppRole secret IDs and login lockouts of each tenant. Nothing
/// is cached: logins read the configuration afresh, so a change reaches every instance at once.
struct SQLIdentityStore: IdentityStore {
    let db: WorkDatabase
    /// The same database for writes that also revoke tokens (other instances drop their token caches).
    let revoking: WorkDatabase
    let tokenCache: RecordCache<[UInt8], TokenRecord>?

    func authMethods(tenantID: String) async throws -> [AuthMethod] {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM auth_methods WHERE tenant_id = $1 ORDER BY path", [.text(tenantID)])
            .map(Self.decodeMethod)
    }

    func authMethod(tenantID: String, path: String) async throws -> AuthMethod? {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM auth_methods WHERE tenant_id = $1 AND path = $2", [.text(tenantID), .text(path)])
            .first.map(Self.decodeMethod)
    }

    func insertAuthMethod(tenantID: String, _ method: AuthMethod, in work: UnitOfWork) async throws -> Bool {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            !(try await tx.query(
                """
                INSERT INTO auth_methods (tenant_id, path, type, description, accessor, config, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (tenant_id, path) DO NOTHING RETURNING path
                """, Self.binds(tenantID, method))).isEmpty
        }
    }

    func saveAuthMethod(tenantID: String, _ method: AuthMethod, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                "UPDATE auth_methods SET description = $3, config = $4 WHERE tenant_id = $1 AND path = $2",
                [
                    .text(tenantID), .text(method.path), .text(method.description),
                    .text(String(decoding: method.config.canonicalBytes(), as: UTF8.self)),
                ])
        }
    }

    func deleteAuthMethod(tenantID: String, path: String, at time: Int64, in work: UnitOfWork) async throws -> [String]? {
        defer { tokenCache?.invalidateAll() }
        return try await revoking.transaction(work, in: .tenant(tenantID)) { tx -> [String]? in
            let key: [SQLValue] = [.text(tenantID), .text(path)]
            guard !(try await tx.query("DELETE FROM auth_methods WHERE tenant_id = $1 AND path = $2 RETURNING path", key)).isEmpty else {
                return nil
            }
            for table in ["auth_entries", "auth_secret_ids", "auth_lockouts"] {
                try await tx.query("DELETE FROM \(table) WHERE tenant_id = $1 AND mount = $2", key)
            }
            let rows = try await tx.query(
                """
                WITH RECURSIVE tree(accessor) AS (
                  SELECT accessor FROM tokens WHERE tenant_id = $2 AND auth_mount = $3 AND revoked_at IS NULL
                  UNION SELECT t.accessor FROM tokens t JOIN tree ON t.parent_accessor = tree.accessor WHERE t.tenant_id = $2)
                UPDATE tokens SET revoked_at = $1 WHERE tenant_id = $2 AND revoked_at IS NULL AND accessor IN (SELECT accessor FROM tree)
                RETURNING accessor
                """, [.int(time), .text(tenantID), .text(path)])
            return try rows.map { try $0.text("accessor") }
        }
    }

    func authEntry(tenantID: String, mount: String, _ key: AuthEntryKey) async throws -> JSONValue? {
        guard
            let row = try await db.query(
                in: .tenant(tenantID), "SELECT document FROM auth_entries WHERE tenant_id = $1 AND mount = $2 AND kind = $3 AND name = $4",
                [.text(tenantID), .text(mount), .text(key.kind.rawValue), .text(key.name)]
            ).first
        else { return nil }
        guard let document = JSONValue.parse(Array(try row.text("document").utf8)) else {
            throw CofferError(.storageCorrupt, "a stored auth method entry is malformed")
        }
        return document
    }

    func authEntryNames(tenantID: String, mount: String, kind: AuthEntryKind) async throws -> [String] {
        try await db.query(
            in: .tenant(tenantID), "SELECT name FROM auth_entries WHERE tenant_id = $1 AND mount = $2 AND kind = $3 ORDER BY name",
            [.text(tenantID), .text(mount), .text(kind.rawValue)]
        ).map { try $0.text("name") }
    }

    func writeAuthEntries(
        tenantID: String, mount: String, put: [AuthEntryKey: JSONValue], delete: [AuthEntryKey], dropSecretIDsOf role: String?,
        in work: UnitOfWork
    ) async throws -> Int {
        let puts = put.map { ($0.key, String(decoding: $0.value.canonicalBytes(), as: UTF8.self)) }
        return try await db.transaction(work, in: .tenant(tenantID)) { tx -> Int in
            var deleted = 0
            for key in delete {
                deleted +=
                    try await tx.query(
                        "DELETE FROM auth_entries WHERE tenant_id = $1 AND mount = $2 AND kind = $3 AND name = $4 RETURNING name",
                        [.text(tenantID), .text(mount), .text(key.kind.rawValue), .text(key.name)]
                    ).count
            }
            for (key, document) in puts {
                try await tx.query(
                    """
                    INSERT INTO auth_entries (tenant_id, mount, kind, name, document) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (tenant_id, mount, kind, name) DO UPDATE SET document = excluded.document
                    """, [.text(tenantID), .text(mount), .text(key.kind.rawValue), .text(key.name), .text(document)])
            }
            if let role {
                try await tx.query(
                    "DELETE FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND role_name = $3",
                    [.text(tenantID), .text(mount), .text(role)])
            }
            return deleted
        }
    }

    func insertSecretID(tenantID: String, mount: String, _ record: SecretIDRecord, in work: UnitOfWork) async throws {
        let document = JSONValue.object([
            "cidr_list": .array(record.boundCIDRs.map { .string($0) }), "token_bound_cidrs": .array(record.tokenBoundCIDRs.map { .string($0) }),
            "metadata": .object(record.metadata.mapValues { .string($0) }),
        ])
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO auth_secret_ids (tenant_id, mount, accessor, hash, role_name, uses_left, expires_at, document, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """,
                [
                    .text(tenantID), .text(mount), .text(record.accessor), .blob(record.hash), .text(record.roleName), .int(record.usesLeft),
                    .optional(record.expiresAt), .text(String(decoding: document.canonicalBytes(), as: UTF8.self)), .int(record.createdAt),
                ])
        }
    }

    func secretID(tenantID: String, mount: String, hash: [UInt8]) async throws -> SecretIDRecord? {
        try await db.query(
            in: .tenant(tenantID), "SELECT * FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND hash = $3",
            [.text(tenantID), .text(mount), .blob(hash)]
        ).first.map(Self.decodeSecretID)
    }

    func secretID(tenantID: String, mount: String, accessor: String) async throws -> SecretIDRecord? {
        try await db.query(
            in: .tenant(tenantID), "SELECT * FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND accessor = $3",
            [.text(tenantID), .text(mount), .text(accessor)]
        ).first.map(Self.decodeSecretID)
    }

    func secretIDAccessors(tenantID: String, mount: String, role: String) async throws -> [String] {
        try await db.query(
            in: .tenant(tenantID), "SELECT accessor FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND role_name = $3 ORDER BY accessor",
            [.text(tenantID), .text(mount), .text(role)]
        ).map { try $0.text("accessor") }
    }

    func spendSecretID(tenantID: String, mount: String, accessor: String, usesLeft: Int64) async throws -> Bool {
        let key: [SQLValue] = [.text(tenantID), .text(mount), .text(accessor), .int(usesLeft)]
        return try await db.transaction(in: .tenant(tenantID)) { tx -> Bool in
            let sql =
                switch usesLeft {
                case 0: "SELECT accessor FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND accessor = $3 AND uses_left = $4"
                case 1: "DELETE FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND accessor = $3 AND uses_left = $4 RETURNING accessor"
                default:
                    """
                    UPDATE auth_secret_ids SET uses_left = uses_left - 1 WHERE tenant_id = $1 AND mount = $2 AND accessor = $3 AND uses_left = $4
                    RETURNING accessor
                    """
                }
            return !(try await tx.query(sql, key)).isEmpty
        }
    }

    func deleteSecretID(tenantID: String, mount: String, accessor: String, in work: UnitOfWork) async throws -> Bool {
        try await db.transaction(work, in: .tenant(tenantID)) { tx -> Bool in
            !(try await tx.query(
                "DELETE FROM auth_secret_ids WHERE tenant_id = $1 AND mount = $2 AND accessor = $3 RETURNING accessor",
                [.text(tenantID), .text(mount), .text(accessor)])).isEmpty
        }
    }

    func lockout(tenantID: String, mount: String, subject: String) async throws -> LockoutState? {
        try await db.query(
            in: .tenant(tenantID), "SELECT * FROM auth_lockouts WHERE tenant_id = $1 AND mount = $2 AND subject = $3",
            [.text(tenantID), .text(mount), .text(subject)]
        ).first.map(Self.decodeLockout).flatMap { $0 == LockoutState(failures: 0, windowStart: 0) ? nil : $0 }
    }

    func updateLockout(
        tenantID: String, mount: String, subject: String, _ change: @escaping @Sendable (LockoutState?) -> LockoutState?
    ) async throws -> LockoutState? {
        let key: [SQLValue] = [.text(tenantID), .text(mount), .text(subject)]
        let forUpdate = db.forUpdate
        return try await db.transaction(in: .tenant(tenantID)) { tx -> LockoutState? in
            // A placeholder row (no failures, window 0) first, so that concurrent first failures queue on
            // one row lock instead of both inserting; it reads as "no state".
            try await tx.query(
                """
                INSERT INTO auth_lockouts (tenant_id, mount, subject, failures, window_start, locked_until) VALUES ($1, $2, $3, 0, 0, NULL)
                ON CONFLICT (tenant_id, mount, subject) DO NOTHING
                """, key)
            let row = try await tx.query("SELECT * FROM auth_lockouts WHERE tenant_id = $1 AND mount = $2 AND subject = $3\(forUpdate)", key).first
            let before = try row.map(Self.decodeLockout).flatMap { $0 == LockoutState(failures: 0, windowStart: 0) ? nil : $0 }
            guard let after = change(before) else {
                try await tx.query("DELETE FROM auth_lockouts WHERE tenant_id = $1 AND mount = $2 AND subject = $3", key)
                return before
            }
            try await tx.query(
                "UPDATE auth_lockouts SET failures = $4, window_start = $5, locked_until = $6 WHERE tenant_id = $1 AND mount = $2 AND subject = $3",
                key + [.int(Int64(after.failures)), .int(after.windowStart), .optional(after.lockedUntil)])
            return before
        }
    }

    static func binds(_ tenantID: String, _ method: AuthMethod) -> [SQLValue] {
        [
            .text(tenantID), .text(method.path), .text(method.kind.rawValue), .text(method.description), .text(method.accessor),
            .text(String(decoding: method.config.canonicalBytes(), as: UTF8.self)), .int(method.createdAt),
        ]
    }

    /// Rows that do not parse fail closed (`STORAGE_CORRUPT`).
    static func decodeMethod(_ row: SQLRow) throws -> AuthMethod {
        guard let config = JSONValue.parse(Array(try row.text("config").utf8)), config.objectValue != nil else {
            throw CofferError(.storageCorrupt, "a stored auth method is malformed")
        }
        return AuthMethod(
            path: try row.text("path"), kind: try row.known("type", as: AuthMethod.Kind.self), description: try row.text("description"),
            accessor: try row.text("accessor"), createdAt: try row.int("created_at"), config: config)
    }

    static func decodeSecretID(_ row: SQLRow) throws -> SecretIDRecord {
        let corrupt = CofferError(.storageCorrupt, "a stored secret ID is malformed")
        guard let document = JSONValue.parse(Array(try row.text("document").utf8)), case .array(let cidrs)? = document["cidr_list"],
            case .array(let tokenCIDRs)? = document["token_bound_cidrs"], let metadata = document["metadata"]?.objectValue
        else { throw corrupt }
        let uses = try row.int("uses_left")
        guard uses >= 0 else { throw corrupt }
        func texts(_ items: [JSONValue]) throws -> [String] {
            try items.map { item in
                guard let text = item.stringValue, CIDR(text) != nil else { throw corrupt }
                return text
            }
        }
        var meta: [String: String] = [:]
        for (name, value) in metadata {
            guard let text = value.stringValue else { throw corrupt }
            meta[name] = text
        }
        return SecretIDRecord(
            accessor: try row.text("accessor"), hash: try row.blob("hash"), roleName: try row.text("role_name"), usesLeft: uses,
            expiresAt: try row.optionalInt("expires_at"), boundCIDRs: try texts(cidrs), tokenBoundCIDRs: try texts(tokenCIDRs), metadata: meta,
            createdAt: try row.int("created_at"))
    }

    static func decodeLockout(_ row: SQLRow) throws -> LockoutState {
        let failures = try row.int("failures")
        guard (0...Int64(Int32.max)).contains(failures) else { throw CofferError(.storageCorrupt, "a stored lockout is malformed") }
        return LockoutState(failures: Int(failures), windowStart: try row.int("window_start"), lockedUntil: try row.optionalInt("locked_until"))
    }
}

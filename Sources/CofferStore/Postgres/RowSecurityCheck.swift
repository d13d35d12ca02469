import CofferCore

/// What the role Coffer connected as can do against Row-Level Security, read from the catalogue.
public struct RowSecurityStatus: Sendable, Equatable {
    /// The connected role.
    public var role: String
    /// A superuser bypasses every policy.
    public var isSuperuser: Bool
    /// `BYPASSRLS` skips policies.
    public var bypassesRLS: Bool
    /// The owner of Coffer's tables (or a member of it) can drop or disable the policies.
    public var ownsTables: Bool
    /// Membership of `coffer_system`, which the cross-tenant paths need to `SET LOCAL ROLE`.
    public var mayBecomeSystem: Bool

    /// Whether the tenant wall could be switched off or walked around by this role.
    public var canBypass: Bool { isSuperuser || bypassesRLS || ownsTables }

    /// Why this role may not serve under enforced Row-Level Security, or nil when it may.
    public var refusal: String? {
        if canBypass {
            let why = isSuperuser ? "is a superuser" : bypassesRLS ? "has BYPASSRLS" : "owns Coffer's tables"
            return """
                the database role \(role) \(why), so it could read past Row-Level Security; connect as an application role \
                (README "Database roles"), or set storage.allow_rls_bypass = true to accept this
                """
        }
        if !mayBecomeSystem {
            return
                "the database role \(role) is not a member of \(SQLScope.systemRole); as the tables' owner run: GRANT \(SQLScope.systemRole) TO \(role)"
        }
        return nil
    }
}

extension CofferPostgresDatabase {
    /// Reads the connected role's attributes (after migrations: `coffer_system` and `api_keys` exist).
    public func rowSecurityStatus() async throws -> RowSecurityStatus {
        let sql = """
            SELECT current_user::text AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
              COALESCE((SELECT pg_has_role(current_user, c.relowner, 'MEMBER') FROM pg_class c WHERE c.oid = to_regclass('api_keys')), false)
                AS owner,
              pg_has_role(current_user, '\(SQLScope.systemRole)', 'MEMBER') AS system
            FROM pg_roles r WHERE r.rolname = current_user
            """
        guard let row = try await query(sql, []).first else {
            throw CofferError(.storageUnavailable, "PostgreSQL did not describe the connected role")
        }
        return RowSecurityStatus(
            role: try row.text("role"), isSuperuser: try row.bool("superuser"), bypassesRLS: try row.bool("bypass"),
            ownsTables: try row.bool("owner"), mayBecomeSystem: try row.bool("system"))
    }
}

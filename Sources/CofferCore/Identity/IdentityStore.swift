/// Names a stored entry of an auth method.
public struct AuthEntryKey: Sendable, Hashable {
    /// What the entry is.
    public var kind: AuthEntryKind
    /// Its name (username, role name).
    public var name: String

    /// Creates a key.
    public init(_ kind: AuthEntryKind, _ name: String) {
        self.kind = kind
        self.name = name
    }
}

/// Persistence of a tenant's auth methods, their users and roles, AppRole secret IDs and login lockouts.
/// Writes run in one transaction of the given unit of work.
public protocol IdentityStore: Sendable {
    /// The tenant's enabled methods (not `token/`), by path.
    func authMethods(tenantID: String) async throws -> [AuthMethod]
    /// One enabled method.
    func authMethod(tenantID: String, path: String) async throws -> AuthMethod?
    /// Inserts a method; false if the path is taken.
    func insertAuthMethod(tenantID: String, _ method: AuthMethod, in work: UnitOfWork) async throws -> Bool
    /// Replaces a method's description and configuration.
    func saveAuthMethod(tenantID: String, _ method: AuthMethod, in work: UnitOfWork) async throws
    /// Deletes a method with its entries, secret IDs and lockouts, and revokes every token its logins
    /// made, in one transaction. Returns the revoked accessors, or nil if no method was there.
    func deleteAuthMethod(tenantID: String, path: String, at time: Int64, in work: UnitOfWork) async throws -> [String]?

    /// One entry's document.
    func authEntry(tenantID: String, mount: String, _ key: AuthEntryKey) async throws -> JSONValue?
    /// The names of a method's entries of one kind, sorted.
    func authEntryNames(tenantID: String, mount: String, kind: AuthEntryKind) async throws -> [String]
    /// Writes `put` and deletes `delete` in one transaction; with `dropSecretIDsOf`, also deletes that
    /// role's secret IDs. Returns how many of `delete` existed.
    func writeAuthEntries(
        tenantID: String, mount: String, put: [AuthEntryKey: JSONValue], delete: [AuthEntryKey], dropSecretIDsOf role: String?,
        in work: UnitOfWork
    ) async throws -> Int

    /// Stores a new secret ID.
    func insertSecretID(tenantID: String, mount: String, _ record: SecretIDRecord, in work: UnitOfWork) async throws
    /// The secret ID with this keyed hash.
    func secretID(tenantID: String, mount: String, hash: [UInt8]) async throws -> SecretIDRecord?
    /// The secret ID with this accessor.
    func secretID(tenantID: String, mount: String, accessor: String) async throws -> SecretIDRecord?
    /// A role's secret-ID accessors, sorted.
    func secretIDAccessors(tenantID: String, mount: String, role: String) async throws -> [String]
    /// Spends one use of a secret ID that had `usesLeft` uses (its last use deletes it; 0 = unlimited,
    /// nothing changes). False if it changed meanwhile or is gone. Accounting, outside any unit of work:
    /// the login's entry goes with its token.
    func spendSecretID(tenantID: String, mount: String, accessor: String, usesLeft: Int64) async throws -> Bool
    /// Deletes a secret ID; false if there was none.
    func deleteSecretID(tenantID: String, mount: String, accessor: String, in work: UnitOfWork) async throws -> Bool

    /// The failed-login state of a subject.
    func lockout(tenantID: String, mount: String, subject: String) async throws -> LockoutState?
    /// Changes a subject's failed-login state atomically (`nil` clears it); returns the state before.
    /// Accounting, outside any unit of work, like a token's use count.
    func updateLockout(
        tenantID: String, mount: String, subject: String, _ change: @escaping @Sendable (LockoutState?) -> LockoutState?
    ) async throws -> LockoutState?
}

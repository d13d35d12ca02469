/// An AppRole role: the machine login of Vault. Its role ID names it at login; secret IDs issued for it
/// prove the caller. Secret IDs are shown once and stored only as keyed hashes.
public struct AppRole: Sendable, Hashable {
    /// The role's name.
    public var name: String
    /// The role ID (not secret on its own, but never logged).
    public var roleID: String
    /// Whether a login needs a secret ID (Vault's `bind_secret_id`; Coffer requires true).
    public var bindSecretID: Bool = true
    /// Networks secret IDs of this role may be used from.
    public var secretIDBoundCIDRs: [String] = []
    /// Uses of each secret ID (0 = unlimited).
    public var secretIDNumUses: Int64 = 0
    /// Lifetime of each secret ID, seconds (0 = unlimited).
    public var secretIDTTLSeconds: Int64 = 0
    /// The token a login yields.
    public var settings: LoginTokenSettings

    /// Creates a role.
    public init(name: String, roleID: String, settings: LoginTokenSettings) {
        self.name = name
        self.roleID = roleID
        self.settings = settings
    }

    /// The stored form.
    public var document: JSONValue {
        .object([
            "role_id": .string(roleID), "bind_secret_id": .bool(bindSecretID),
            "secret_id_bound_cidrs": .array(secretIDBoundCIDRs.map { .string($0) }),
            "secret_id_num_uses": .int(secretIDNumUses), "secret_id_ttl": .int(secretIDTTLSeconds), "settings": .object(settings.document),
        ])
    }

    /// Reads the stored form (`STORAGE_CORRUPT` if unreadable).
    public init(name: String, document: JSONValue) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "a stored AppRole role is malformed")
        guard let roleID = document["role_id"]?.stringValue, let bind = document["bind_secret_id"]?.boolValue,
            case .array(let cidrs)? = document["secret_id_bound_cidrs"], let uses = document["secret_id_num_uses"]?.intValue,
            let ttl = document["secret_id_ttl"]?.intValue, let settings = document["settings"]?.objectValue, uses >= 0, ttl >= 0
        else { throw corrupt }
        self.init(name: name, roleID: roleID, settings: try LoginTokenSettings(document: settings))
        bindSecretID = bind
        secretIDNumUses = Int64(uses)
        secretIDTTLSeconds = Int64(ttl)
        for cidr in cidrs {
            guard let text = cidr.stringValue, CIDR(text) != nil else { throw corrupt }
            secretIDBoundCIDRs.append(text)
        }
    }

    /// A fresh role ID (a UUID, as Vault's).
    public static func generateRoleID() -> String { SecureRandom.uuid() }
}

/// A stored secret ID (never the secret ID itself).
public struct SecretIDRecord: Sendable, Hashable {
    /// Public id (`secret_id_accessor`).
    public var accessor: String
    /// Keyed hash of the secret ID.
    public var hash: [UInt8]
    /// The role it logs in to.
    public var roleName: String
    /// Uses left (0 = unlimited).
    public var usesLeft: Int64
    /// Expiry, ms; nil = never.
    public var expiresAt: Int64?
    /// Networks it may be used from (the role's and its own `cidr_list`).
    public var boundCIDRs: [String]
    /// Networks the tokens it yields are bound to.
    public var tokenBoundCIDRs: [String]
    /// Free metadata given at generation (shown by lookups, copied into the token's metadata).
    public var metadata: [String: String]
    /// Creation time, ms.
    public var createdAt: Int64

    /// Creates a record.
    public init(
        accessor: String, hash: [UInt8], roleName: String, usesLeft: Int64, expiresAt: Int64?, boundCIDRs: [String], tokenBoundCIDRs: [String],
        metadata: [String: String], createdAt: Int64
    ) {
        self.accessor = accessor
        self.hash = hash
        self.roleName = roleName
        self.usesLeft = usesLeft
        self.expiresAt = expiresAt
        self.boundCIDRs = boundCIDRs
        self.tokenBoundCIDRs = tokenBoundCIDRs
        self.metadata = metadata
        self.createdAt = createdAt
    }

    /// Whether it is usable at `now` from `clientIP`.
    public func admits(now: Int64, clientIP: String?) -> Bool {
        guard expiresAt.map({ now < $0 }) ?? true else { return false }
        guard !boundCIDRs.isEmpty else { return true }
        guard let clientIP else { return false }
        return boundCIDRs.contains { CIDR($0)?.contains(clientIP) ?? false }
    }
}

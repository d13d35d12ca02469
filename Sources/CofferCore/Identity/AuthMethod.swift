/// An auth method enabled at a path of a tenant (Vault's `sys/auth`): how people and machines log in
/// and receive a Coffer token. `token/` always exists; the others are enabled at free paths.
public struct AuthMethod: Sendable, Hashable {
    /// The method type.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Coffer tokens themselves (built in, at `token/`).
        case token
        /// Usernames with Argon2id-hashed passwords.
        case userpass
        /// Machine logins with a role ID and a secret ID.
        case approle
        /// JSON Web Tokens checked against configured keys, a JWKS URL or OIDC discovery.
        case jwt
        /// The same as `jwt`, under Vault's other name for it.
        case oidc
        /// TLS client certificates (mutual TLS).
        case cert
    }

    /// Path without slashes (`userpass`, `corp-sso`).
    public var path: String
    /// Method type.
    public var kind: Kind
    /// Free text.
    public var description: String
    /// Public id (Vault's auth accessor).
    public var accessor: String
    /// Creation time, ms (0 for `token/`).
    public var createdAt: Int64
    /// The method's own settings (`auth/<path>/config`): a JSON object, `{}` until configured.
    public var config: JSONValue

    /// Creates a method.
    public init(path: String, kind: Kind, description: String = "", accessor: String, createdAt: Int64, config: JSONValue = .object([:])) {
        self.path = path
        self.kind = kind
        self.description = description
        self.accessor = accessor
        self.createdAt = createdAt
        self.config = config
    }

    /// The built-in token method.
    public static let token = AuthMethod(
        path: "token", kind: .token, description: "token based credentials", accessor: "auth_token_builtin", createdAt: 0)

    /// Whether `path` can name an auth method: one segment of 1–64 lowercase letters, digits, `-` or `_`
    /// (as secrets-engine mounts), and not `token`.
    public static func isValidPath(_ path: String) -> Bool {
        path != "token" && (1...64).contains(path.utf8.count)
            && path.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
    }

    /// Whether `name` can name a user, a role or a secret-ID accessor: 1–128 letters, digits, `.`, `_`,
    /// `-` or `@`, not starting with `.` (so it is one path segment and never a traversal).
    public static func isValidName(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name.utf8.first != UInt8(ascii: ".")
            && name.utf8.allSatisfy {
                ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 46 || $0 == 64
            }
    }
}

/// What an auth method's stored entries are.
public enum AuthEntryKind: String, Sendable, Hashable, CaseIterable {
    /// A userpass user.
    case user
    /// An AppRole or JWT role.
    case role
    /// An AppRole role ID's index entry (named by the role ID's keyed hash), naming its role.
    case roleID = "role_id"
    /// A certificate role of the `cert` method (Vault's `certs/<name>`).
    case certRole = "cert"
    /// A certificate revocation list of the `cert` method (Vault's `crls/<name>`).
    case crl
    /// An OIDC browser login in progress, under its state's keyed hash.
    case oidcState = "oidc_state"
}

/// Where a login token came from: the method's path, the method's role (AppRole and JWT roles) and
/// the subject (the username, the AppRole role, the JWT's user claim). Lets an admin revoke every
/// session of a user or a role, and lets renewal re-check the configuration that granted it.
public struct LoginOrigin: Sendable, Hashable {
    /// The auth method's path.
    public var mount: String
    /// The method's role, if it has roles.
    public var role: String?
    /// Who logged in.
    public var subject: String

    /// Creates an origin.
    public init(mount: String, role: String?, subject: String) {
        self.mount = mount
        self.role = role
        self.subject = subject
    }
}

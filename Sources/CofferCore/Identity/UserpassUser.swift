/// A userpass user: an Argon2id password hash and the token its logins get.
public struct UserpassUser: Sendable, Hashable {
    /// The username.
    public var name: String
    /// PHC string of the password's Argon2id hash.
    public var passwordHash: String
    /// The token a login yields.
    public var settings: LoginTokenSettings
    /// When the password was last set, ms.
    public var passwordChangedAt: Int64

    /// Creates a user.
    public init(name: String, passwordHash: String, settings: LoginTokenSettings, passwordChangedAt: Int64) {
        self.name = name
        self.passwordHash = passwordHash
        self.settings = settings
        self.passwordChangedAt = passwordChangedAt
    }

    /// The stored form.
    public var document: JSONValue {
        .object(["password_hash": .string(passwordHash), "settings": .object(settings.document), "password_changed_at": .int(passwordChangedAt)])
    }

    /// Reads the stored form (`STORAGE_CORRUPT` if unreadable).
    public init(name: String, document: JSONValue) throws(CofferError) {
        guard let hash = document["password_hash"]?.stringValue, let settings = document["settings"]?.objectValue,
            let changed = document["password_changed_at"]?.intValue
        else { throw CofferError(.storageCorrupt, "a stored user is malformed") }
        self.init(name: name, passwordHash: hash, settings: try LoginTokenSettings(document: settings), passwordChangedAt: Int64(changed))
    }
}

/// A userpass method's settings (`auth/<path>/config`, Coffer's): the password policy and the lockouts.
public struct UserpassConfig: Sendable, Hashable {
    /// Shortest password accepted, in characters (default 12).
    public var passwordMinLength: Int = 12
    /// Lockout of one user.
    public var userLockout: LockoutPolicy = .userDefault
    /// Lockout of one client address across the method's users.
    public var addressLockout: LockoutPolicy = .addressDefault

    /// The defaults.
    public init() {}

    /// The stored form.
    public var document: JSONValue {
        .object([
            "password_min_length": .int(passwordMinLength), "lockout_threshold": .int(userLockout.threshold),
            "lockout_duration": .int(userLockout.durationMillis / 1000), "lockout_counter_reset": .int(userLockout.counterResetMillis / 1000),
            "address_lockout_threshold": .int(addressLockout.threshold),
        ])
    }

    /// Reads the stored form; a method never configured (`{}`) has the defaults.
    public init(document: JSONValue) throws(CofferError) {
        guard let members = document.objectValue else { throw CofferError(.storageCorrupt, "a stored userpass configuration is malformed") }
        guard !members.isEmpty else { return }
        guard let minimum = members["password_min_length"]?.intValue, let threshold = members["lockout_threshold"]?.intValue,
            let duration = members["lockout_duration"]?.intValue, let reset = members["lockout_counter_reset"]?.intValue,
            let addressThreshold = members["address_lockout_threshold"]?.intValue, minimum >= 1, threshold >= 0, duration >= 0, reset >= 0,
            addressThreshold >= 0
        else { throw CofferError(.storageCorrupt, "a stored userpass configuration is malformed") }
        passwordMinLength = minimum
        userLockout = LockoutPolicy(threshold: threshold, durationMillis: Int64(duration) * 1000, counterResetMillis: Int64(reset) * 1000)
        addressLockout = LockoutPolicy(
            threshold: addressThreshold, durationMillis: Int64(duration) * 1000, counterResetMillis: Int64(reset) * 1000)
    }

    /// Whether `password` meets the policy; `INVALID_REQUEST` saying why (never repeating it) otherwise.
    public func check(password: String) throws(CofferError) {
        guard password.count >= passwordMinLength else {
            throw CofferError(.invalidRequest, "password: at least \(passwordMinLength) characters are required; nothing was changed")
        }
        guard password.utf8.count <= PasswordHash.maximumPasswordBytes else {
            throw CofferError(.invalidRequest, "password: at most \(PasswordHash.maximumPasswordBytes) bytes; nothing was changed")
        }
    }
}

/// Password hashes in the PHC string format (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`, unpadded
/// base64), computed by libargon2. The parameters travel with each hash, so they can be raised later
/// without invalidating stored passwords.
public enum PasswordHash {
    /// Userpass's parameters: 19 MiB, 2 passes, 1 lane (OWASP's Argon2id minimum), about 30 ms here.
    public static let parameters = Argon2id(memoryKiB: 19_456, iterations: 2, parallelism: 1)

    /// The longest password hashed (bytes); longer ones are refused before any work.
    public static let maximumPasswordBytes = 1_024

    /// A hash of `password` with a fresh 16-byte salt.
    public static func make(_ password: String, parameters: Argon2id = parameters) throws(CofferError) -> String {
        let salt = SecureRandom.bytes(16)
        let hash = try parameters.derive(password: Array(password.utf8), salt: salt, length: 32)
        return "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$"
            + unpadded(Base64.encode(salt)) + "$" + unpadded(Base64.encode(hash))
    }

    /// Whether `password` matches `phc`, compared in constant time. A string that is not an Argon2id PHC
    /// hash with sane parameters is `STORAGE_CORRUPT` (fail closed, never a match).
    public static func verify(_ password: String, against phc: String) throws(CofferError) -> Bool {
        guard let (parameters, salt, expected) = parse(phc) else { throw CofferError(.storageCorrupt, "a stored password hash is malformed") }
        let actual = try parameters.derive(password: Array(password.utf8), salt: salt, length: expected.count)
        return ConstantTime.equals(actual, expected)
    }

    /// Spends the same work as a verification against a hash made with the default parameters, for
    /// refusals (an unknown user) that must take as long as a wrong password.
    public static func burn(_ password: String) {
        _ = try? parameters.derive(password: Array(password.utf8), salt: [UInt8](repeating: 0, count: 16), length: 32)
    }

    /// The parameters, salt and hash of a PHC string, or nil.
    static func parse(_ phc: String) -> (Argon2id, [UInt8], [UInt8])? {
        let parts = phc.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "argon2id", parts[2] == "v=19" else { return nil }
        var values: [String: UInt32] = [:]
        for item in parts[3].split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let number = UInt32(pair[1]) else { return nil }
            values[String(pair[0])] = number
        }
        guard let memory = values["m"], let passes = values["t"], let lanes = values["p"], values.count == 3,
            (8...4_194_304).contains(memory), (1...16).contains(passes), (1...16).contains(lanes),
            let salt = Base64.decode(padded(String(parts[4]))), let hash = Base64.decode(padded(String(parts[5]))),
            salt.count >= 8, (16...64).contains(hash.count)
        else { return nil }
        return (Argon2id(memoryKiB: memory, iterations: passes, parallelism: lanes), salt, hash)
    }

    static func unpadded(_ text: String) -> String { String(text.prefix { $0 != "=" }) }

    static func padded(_ text: String) -> String { text + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4) }
}

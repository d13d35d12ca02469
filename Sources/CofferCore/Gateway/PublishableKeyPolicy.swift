/// A project's managed publishable key (APIKeyChain §6.4): Coffer issues the project's `pk_` key itself,
/// replaces it every `rotateHours` (24-72), keeps the previous one working for `overlapMinutes`, and
/// replaces it at once when the key is suspended for anomalous behaviour. The page's backend fetches
/// the current key from Coffer when it renders a page.
public struct PublishableKeyPolicy: Sendable, Equatable {
    /// Hours between rotations.
    public var rotateHours: Int
    /// Minutes the previous key keeps working after a rotation.
    public var overlapMinutes: Int

    /// Parses `{rotate_hours, overlap_minutes?}`.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> PublishableKeyPolicy {
        var reader = try StrictObject(value, path: path)
        guard let hours = try reader.int("rotate_hours", in: 24...72) else {
            throw CofferError(.invalidRequest, "'\(path).rotate_hours' (24-72) is required")
        }
        let overlap = try reader.int("overlap_minutes", in: 0...1_440) ?? 60
        try reader.finish()
        return PublishableKeyPolicy(rotateHours: hours, overlapMinutes: overlap)
    }

    /// The document as stored and read back.
    public var document: JSONValue { ["rotate_hours": .int(rotateHours), "overlap_minutes": .int(overlapMinutes)] }

    /// Milliseconds between rotations.
    public var rotateMillis: Int64 { Int64(rotateHours) * 3_600_000 }
    /// Milliseconds of overlap.
    public var overlapMillis: Int64 { Int64(overlapMinutes) * 60_000 }
}

/// The managed key as stored: its API-key id, the key sealed with the tenant's data key, and when it
/// is due to be replaced (ms).
public struct ManagedKeyRecord: Sendable, Equatable {
    /// The API key's id.
    public var keyID: String
    /// The key itself, sealed (AAD: tenant, project, key id).
    public var sealed: [UInt8]
    /// When it is replaced.
    public var rotatesAt: Int64

    /// Creates a record.
    public init(keyID: String, sealed: [UInt8], rotatesAt: Int64) {
        self.keyID = keyID
        self.sealed = sealed
        self.rotatesAt = rotatesAt
    }
}

/// The scheduled key rules (checked hourly, not per request): API keys about to expire, never rotated
/// past their rotation period, or unused for it. Pure: keys and time in, triggers out.
public enum KeyAttention {
    /// The windows of a tenant's rules, as bounds for the store's query at `now`.
    public static func bounds(_ settings: AlertSettings, now: Int64) -> (expiringBefore: Int64, createdBefore: Int64, unusedSince: Int64) {
        func window(_ name: AlertRuleName) -> Int64? {
            let rule = settings.rule(name)
            return rule.enabled ? Int64(rule.windowSeconds) * 1000 : nil
        }
        // A disabled rule asks for nothing: bounds that no key meets.
        return (
            window(.keyExpiring).map { now + $0 } ?? .min, window(.keyNotRotated).map { now - $0 } ?? .min,
            window(.keyUnused).map { now - $0 } ?? .min
        )
    }

    /// The triggers for `keys` at `now` (one per key and rule: the key id is the dedup key).
    public static func triggers(_ keys: [APIKeyRecord], settings: AlertSettings, now: Int64) -> [AlertTrigger] {
        let (expiringBefore, createdBefore, unusedSince) = bounds(settings, now: now)
        var triggers: [AlertTrigger] = []
        let day: Int64 = 86_400_000
        for key in keys where key.revokedAt == nil && (key.expiresAt.map { $0 > now } ?? true) {
            let named = ["key_id": key.id, "key_name": key.name, "prefix": key.displayPrefix]
            if let expiry = key.expiresAt, expiry <= expiringBefore {
                let rule = settings.rule(.keyExpiring)
                triggers.append(
                    AlertTrigger(
                        rule: .keyExpiring, severity: rule.severity, dedupKey: key.id,
                        summary: "API key \(key.id) expires in \(max(0, (expiry - now) / day)) days",
                        details: named.merging(["expires_at": Timestamp.rfc3339(expiry)]) { $1 }))
            }
            if key.createdAt <= createdBefore, key.rotatedTo == nil {
                let rule = settings.rule(.keyNotRotated)
                triggers.append(
                    AlertTrigger(
                        rule: .keyNotRotated, severity: rule.severity, dedupKey: key.id,
                        summary: "API key \(key.id) is \((now - key.createdAt) / day) days old and was never rotated",
                        details: named.merging(["created_at": Timestamp.rfc3339(key.createdAt)]) { $1 }))
            }
            let lastUse = key.lastUsedAt ?? key.createdAt
            if lastUse <= unusedSince {
                let rule = settings.rule(.keyUnused)
                triggers.append(
                    AlertTrigger(
                        rule: .keyUnused, severity: rule.severity, dedupKey: key.id,
                        summary: "API key \(key.id) has not been used for \((now - lastUse) / day) days",
                        details: named.merging(["last_used_at": key.lastUsedAt.map(Timestamp.rfc3339) ?? "never"]) { $1 }))
            }
        }
        return triggers
    }

    /// The last moment a token can live: its expiry if it cannot be renewed, else its explicit maximum
    /// (nil: it can be renewed without end).
    public static func end(of token: TokenRecord) -> Int64? {
        let fixed = token.renewable ? nil : token.expiresAt
        switch (fixed, token.maxExpiresAt) {
        case let (fixed?, max?): return min(fixed, max)
        case let (fixed?, nil): return fixed
        case let (nil, max?): return max
        case (nil, nil): return nil
        }
    }

    /// `token_expiring` triggers: live tokens whose end (``end(of:)``) falls within the window and whose
    /// whole lifetime is at least the rule's threshold in days (short-lived sessions end all the time).
    public static func tokenTriggers(_ tokens: [TokenRecord], settings: AlertSettings, now: Int64) -> [AlertTrigger] {
        let rule = settings.rule(.tokenExpiring)
        guard rule.enabled else { return [] }
        let day: Int64 = 86_400_000
        return tokens.compactMap { token in
            guard token.revokedAt == nil, let end = end(of: token), end > now, end <= now + Int64(rule.windowSeconds) * 1000,
                end - token.createdAt >= Int64(rule.threshold) * day
            else { return nil }
            return AlertTrigger(
                rule: .tokenExpiring, severity: rule.severity, dedupKey: token.accessor,
                summary: "token \(token.accessor) (\(token.displayName)) ends in \(max(0, (end - now) / day)) days and cannot be renewed past it",
                details: ["accessor": token.accessor, "display_name": token.displayName, "ends_at": Timestamp.rfc3339(end)])
        }
    }

    /// `transit_key_not_rotated` triggers: keys (name, newest version, its creation time) whose newest
    /// version is older than the window.
    public static func transitTriggers(
        _ keys: [(name: String, version: Int, createdAt: Int64)], settings: AlertSettings, now: Int64
    )
        -> [AlertTrigger]
    {
        let rule = settings.rule(.transitKeyNotRotated)
        guard rule.enabled else { return [] }
        let day: Int64 = 86_400_000
        return keys.compactMap { key in
            guard key.createdAt <= now - Int64(rule.windowSeconds) * 1000 else { return nil }
            return AlertTrigger(
                rule: .transitKeyNotRotated, severity: rule.severity, dedupKey: "transit:" + key.name,
                summary: "transit key \(key.name) was last rotated \((now - key.createdAt) / day) days ago (version \(key.version))",
                details: ["key_name": key.name, "version": String(key.version), "created_at": Timestamp.rfc3339(key.createdAt)])
        }
    }
}

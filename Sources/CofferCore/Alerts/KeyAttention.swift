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
}

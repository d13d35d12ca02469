import CofferCore

/// Rate limits and quotas kept in the `rate_limits` table, so every instance sharing the database
/// counts against the same budget. Each allowed check is one atomic upsert: the GCRA (or quota)
/// condition is evaluated by the database on the locked row, so concurrent instances cannot both
/// take the last unit. The arithmetic mirrors ``GCRA`` and ``QuotaWindow``, which report the result.
struct SQLRateLimiter: RateLimiterBackend {
    /// The database without audit hooks: counters are not audited changes.
    let db: any SQLDatabase

    func rate(bucket: String, limit: Int, periodMillis: Int64, cost: Int, now: Int64) async throws -> GCRA.Decision {
        let nowMicros = now * 1000
        let increment = Self.micros(periodMillis, units: cost, limit: limit)
        let burst = periodMillis * 1000
        if cost <= limit {
            let rows = try await db.query(
                """
                INSERT INTO rate_limits (bucket, tat_us, window_start, used) VALUES ($1, $2 + $3, 0, 0)
                ON CONFLICT (bucket) DO UPDATE SET tat_us = (CASE WHEN rate_limits.tat_us > $2 THEN rate_limits.tat_us ELSE $2 END) + $3
                WHERE (CASE WHEN rate_limits.tat_us > $2 THEN rate_limits.tat_us ELSE $2 END) + $3 - $4 <= $2
                RETURNING tat_us
                """,
                [.text(bucket), .int(nowMicros), .int(increment), .int(burst)])
            if let tat = try rows.first?.int("tat_us") {
                return GCRA(limit: limit, periodMillis: periodMillis, tat: Double(tat) / 1000).admitted(now: now)
            }
        }
        let stored = try await db.query("SELECT tat_us FROM rate_limits WHERE bucket = $1", [.text(bucket)]).first?.int("tat_us") ?? 0
        var limiter = GCRA(limit: limit, periodMillis: periodMillis, tat: Double(stored) / 1000)
        let decision = limiter.check(now: now, cost: cost)
        // Refused by the database: report the refusal even if the pure check would now squeeze it in.
        return GCRA.Decision(
            allowed: false, remaining: decision.allowed ? 0 : decision.remaining, resetMillis: decision.resetMillis,
            retryAfterMillis: max(1, decision.retryAfterMillis))
    }

    func quota(bucket: String, limit: Int, windowMillis: Int64, cost: Int, now: Int64) async throws -> QuotaWindow.Decision {
        let start = now - now % windowMillis
        let reset = start + windowMillis - now
        if cost <= limit {
            let rows = try await db.query(
                """
                INSERT INTO rate_limits (bucket, tat_us, window_start, used) VALUES ($1, 0, $2, $3)
                ON CONFLICT (bucket) DO UPDATE SET used = (CASE WHEN rate_limits.window_start = $2 THEN rate_limits.used ELSE 0 END) + $3,
                  window_start = $2
                WHERE (CASE WHEN rate_limits.window_start = $2 THEN rate_limits.used ELSE 0 END) + $3 <= $4
                RETURNING used
                """,
                [.text(bucket), .int(start), .int(Int64(cost)), .int(Int64(limit))])
            if let used = try rows.first?.int("used") {
                return QuotaWindow.Decision(allowed: true, remaining: limit - Int(used), resetMillis: reset)
            }
        }
        let row = try await db.query("SELECT window_start, used FROM rate_limits WHERE bucket = $1", [.text(bucket)]).first
        let used = try row.map { try $0.int("window_start") == start ? Int($0.int("used")) : 0 } ?? 0
        return QuotaWindow.Decision(allowed: false, remaining: max(0, limit - used), resetMillis: reset)
    }

    func releaseRate(bucket: String, limit: Int, periodMillis: Int64, units: Int) async throws {
        guard units > 0, limit > 0 else { return }
        try await db.query(
            "UPDATE rate_limits SET tat_us = tat_us - $2 WHERE bucket = $1",
            [.text(bucket), .int(Self.micros(periodMillis, units: units, limit: limit))])
    }

    func releaseQuota(bucket: String, windowMillis: Int64, windowStart: Int64, units: Int) async throws {
        guard units > 0 else { return }
        try await db.query(
            "UPDATE rate_limits SET used = CASE WHEN used > $2 THEN used - $2 ELSE 0 END WHERE bucket = $1 AND window_start = $3",
            [.text(bucket), .int(Int64(units)), .int(windowStart)])
    }

    /// The GCRA time `units` of a `limit` per `periodMillis` cost, in microseconds. The product is taken at
    /// full width: a lease (up to limit / 300 units) of a long period would overflow 64 bits multiplied
    /// first. Units are capped at the limit, so the quotient never exceeds the period.
    static func micros(_ periodMillis: Int64, units: Int, limit: Int) -> Int64 {
        let product = (periodMillis * 1000).multipliedFullWidth(by: Int64(min(max(units, 0), limit)))
        return Int64(limit).dividingFullWidth(product).quotient
    }
}

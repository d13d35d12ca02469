/// Migration 4: shared rate-limit and quota counters, for instances sharing one PostgreSQL.
/// `tat_us` is a GCRA theoretical arrival time in microseconds; `window_start`/`used` a quota window.
enum RateLimitSchema {
    static func table(int: String) -> String {
        "CREATE TABLE rate_limits (bucket TEXT PRIMARY KEY, tat_us \(int) NOT NULL, window_start \(int) NOT NULL, used \(int) NOT NULL)"
    }

    static let migration = Migrations.Migration(version: 4, sqlite: [table(int: "INTEGER")], postgres: [table(int: "BIGINT")])
}

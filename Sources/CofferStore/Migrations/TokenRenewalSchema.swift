/// Migration 11: tokens that may be renewed, and the latest they may ever expire (`explicit_max_ttl`).
enum TokenRenewalSchema {
    static func statements(int: String) -> [String] {
        [
            "ALTER TABLE tokens ADD COLUMN renewable \(int) NOT NULL DEFAULT 0",
            "ALTER TABLE tokens ADD COLUMN max_expires_at \(int)",
        ]
    }

    static let migration = Migrations.Migration(version: 11, sqlite: statements(int: "INTEGER"), postgres: statements(int: "BIGINT"))
}

import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// A transaction on PostgreSQL ends for its caller within its deadline even when a statement in it
/// never returns (a connection that died unnoticed behaves the same as this `pg_sleep`).
@Suite("PostgreSQL transaction deadlines")
struct TransactionDeadlineTests {
    static var enabled: Bool { StorageEngine.postgresRuns("TransactionDeadlineTests") }

    @Test(.enabled(if: enabled), .timeLimit(.minutes(1)))
    func aStuckTransactionIsCutAtItsDeadline() async throws {
        let database = try await PostgresTestDatabase.create()
        let app = try await CofferPostgresDatabase.connect(url: database.appURL + "?pool_max=4")
        let started = ContinuousClock.now
        let cut = await expectError(.storageUnavailable) {
            try await app.transaction(in: .tenant("t"), within: .milliseconds(500)) { tx in
                try await tx.query("SELECT pg_sleep(20) AS slept", [])
            }
        }
        let waited = ContinuousClock.now - started
        #expect(cut?.message.contains("did not answer within") == true)
        #expect(waited < .seconds(5), "the caller was released at the deadline, not when the statement ended (\(waited))")
        // Without a deadline (migrations, bulk maintenance) a slow transaction runs to its end.
        let slow = try await app.transaction(in: .system, within: nil) { tx in try await tx.query("SELECT pg_sleep(1) AS slept", []) }
        #expect(slow.count == 1)
        // The pool still serves after the cut.
        #expect(try await app.query(in: .tenant("t"), "SELECT 1 AS one", []).first?.int("one") == 1)
        try await app.close()
        await database.drop()
    }
}

import CofferCore
import CofferStore
import Foundation
import Testing

/// A caller cancelled inside a SQLite transaction (a client that went away, a task group whose sibling
/// failed) must not leave the one writer connection inside that transaction.
@Suite("SQLite transactions under cancellation")
struct SQLiteCancellationTests {
    @Test func aCancelledTransactionRollsBackAndTheWriterStaysUsable() async throws {
        let directory = NSTemporaryDirectory() + "coffer-cancel-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await CofferSQLiteDatabase.open(path: directory + "/t.db")
        do {
            try await Self.exercise(database)
        } catch {
            try await database.close()
            throw error
        }
        try await database.close()
    }

    static func exercise(_ database: CofferSQLiteDatabase) async throws {
        try await database.query("CREATE TABLE t (x INTEGER)", [])
        let started = AsyncStream<Void>.makeStream()
        let stuck = Task {
            try await database.transaction(within: nil) { tx in
                try await tx.query("INSERT INTO t (x) VALUES (1)", [])
                started.continuation.yield()
                try await Task.sleep(for: .seconds(30))
                return 0
            }
        }
        for await _ in started.stream { break }
        stuck.cancel()
        #expect(await stuck.result.isFailure)
        // Cancelled between the body and COMMIT: the commit still runs and the write lands.
        let committed = Task {
            try await database.transaction(within: nil) { tx in
                try await tx.query("INSERT INTO t (x) VALUES (2)", [])
                withUnsafeCurrentTask { $0?.cancel() }
                return 0
            }
        }
        _ = await committed.result
        try await database.transaction(within: nil) { tx in try await tx.query("INSERT INTO t (x) VALUES (3)", []) }
        #expect(try await database.query("SELECT x FROM t ORDER BY x", []).map { try $0.int("x") } == [2, 3])
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

import CofferCore
import CofferStore
import Foundation
import Testing

/// The engines the conformance suite runs on: SQLite always, PostgreSQL when `COFFER_TEST_POSTGRES_URL` is set.
enum StorageEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var available: [StorageEngine] {
        ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    /// A fresh, migrated store: a new SQLite file, or a new PostgreSQL database created for this test.
    func makeStorage() async throws -> TestStorage {
        switch self {
        case .sqlite:
            let directory = NSTemporaryDirectory() + "coffer-store-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let url = "sqlite://\(directory)/coffer.db"
            return TestStorage(
                storage: try await SQLStorage.open(url: url), url: url, cleanup: { try? FileManager.default.removeItem(atPath: directory) })
        case .postgres:
            let (url, drop) = try await PostgresTestDatabase.create()
            return TestStorage(storage: try await SQLStorage.open(url: url), url: url, cleanup: drop)
        }
    }
}

/// A store and how to throw it away.
struct TestStorage: Sendable {
    let storage: SQLStorage
    let url: String
    let cleanup: @Sendable () async -> Void

    func close() async {
        try? await storage.shutdown()
        await cleanup()
    }
}

/// Creates and drops a uniquely named database next to the one `COFFER_TEST_POSTGRES_URL` names.
enum PostgresTestDatabase {
    static func create() async throws -> (String, @Sendable () async -> Void) {
        guard let base = ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"], var components = URLComponents(string: base) else {
            throw CofferError(.configInvalid, "COFFER_TEST_POSTGRES_URL is not set")
        }
        let name = "coffer_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let admin = try await CofferPostgresDatabase.connect(url: base)
        // CREATE DATABASE takes no bind parameters; the name is generated above from hex digits only.
        try await admin.query("CREATE DATABASE \(name)", [])
        try await admin.close()
        components.path = "/\(name)"
        let url = components.string ?? base
        return (
            url,
            {
                guard let admin = try? await CofferPostgresDatabase.connect(url: base) else { return }
                _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
                try? await admin.close()
            }
        )
    }
}

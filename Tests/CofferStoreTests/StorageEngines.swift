import CofferCore
import CofferStore
import Foundation
import Synchronization
import Testing

/// The engines the conformance suite runs on: SQLite always, PostgreSQL when `COFFER_TEST_POSTGRES_URL` is set.
enum StorageEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var available: [StorageEngine] {
        ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    /// Whether a PostgreSQL-only suite runs; says why when it is skipped.
    static func postgresRuns(_ suite: String) -> Bool {
        let on = available.contains(.postgres)
        if !on { print("\(suite): COFFER_TEST_POSTGRES_URL not set; skipped") }
        return on
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
            // Migrated by the owner, used as the application role under enforced Row-Level Security:
            // every conformance test is also a test that Coffer works behind the tenant wall.
            let database = try await PostgresTestDatabase.create()
            let storage = try await SQLStorage.open(url: database.appURL, migrationURL: database.url, requireRowSecurity: true)
            OwnerAccess.register(try await CofferPostgresDatabase.connect(url: database.url + "?pool_max=2"), for: storage)
            return TestStorage(storage: storage, url: database.url, cleanup: database.drop)
        }
    }
}

/// A store and how to throw it away.
struct TestStorage: Sendable {
    let storage: SQLStorage
    let url: String
    let cleanup: @Sendable () async -> Void

    func close() async {
        try? await OwnerAccess.remove(for: storage)?.close()
        try? await storage.shutdown()
        await cleanup()
    }
}

/// Creates and drops a uniquely named database next to the one `COFFER_TEST_POSTGRES_URL` names, and
/// makes sure the roles of README "Database roles" exist (`coffer_system`, and `coffer_app` as a member).
struct PostgresTestDatabase {
    /// The database as `COFFER_TEST_POSTGRES_URL`'s role (a superuser: the owner).
    let url: String
    /// The same database as the application role `coffer_app`.
    let appURL: String
    /// Drops the database.
    let drop: @Sendable () async -> Void

    static let roleSetup = [
        "DO $$ BEGIN CREATE ROLE coffer_system NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        "DO $$ BEGIN CREATE ROLE coffer_app LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        "DO $$ BEGIN IF NOT pg_has_role('coffer_app', 'coffer_system', 'MEMBER') THEN GRANT coffer_system TO coffer_app; END IF; "
            + "EXCEPTION WHEN OTHERS THEN NULL; END $$",
    ]

    static func create() async throws -> PostgresTestDatabase {
        guard let base = ProcessInfo.processInfo.environment["COFFER_TEST_POSTGRES_URL"], var components = URLComponents(string: base) else {
            throw CofferError(.configInvalid, "COFFER_TEST_POSTGRES_URL is not set")
        }
        let name = "coffer_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let admin = try await CofferPostgresDatabase.connect(url: base)
        // CREATE DATABASE takes no bind parameters; the name is generated above from hex digits only.
        try await admin.query("CREATE DATABASE \(name)", [])
        for statement in roleSetup { try await admin.query(statement, []) }
        try await admin.close()
        components.path = "/\(name)"
        let url = components.string ?? base
        components.user = "coffer_app"
        components.password = nil
        return PostgresTestDatabase(
            url: url, appURL: components.string ?? base,
            drop: {
                guard let admin = try? await CofferPostgresDatabase.connect(url: base) else { return }
                _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", [])
                try? await admin.close()
            })
    }
}

/// The schema owner's connection to a test store, for tests that play an attacker with database access
/// (tampering) or an operator migrating: on PostgreSQL Coffer itself runs as `coffer_app`, which
/// Row-Level Security keeps from seeing rows outside a tenant scope; on SQLite the store's own database.
enum OwnerAccess {
    static let owners = Mutex<[ObjectIdentifier: any SQLDatabase]>([:])

    static func register(_ owner: any SQLDatabase, for storage: SQLStorage) {
        owners.withLock { $0[ObjectIdentifier(storage)] = owner }
    }

    static func remove(for storage: SQLStorage) -> (any SQLDatabase)? {
        owners.withLock { $0.removeValue(forKey: ObjectIdentifier(storage)) }
    }
}

extension SQLStorage {
    /// The owner's database (see ``OwnerAccess``).
    var owner: any SQLDatabase { OwnerAccess.owners.withLock { $0[ObjectIdentifier(self)] } ?? database }
}

import CofferCore
import Foundation
import Testing

/// The reproduction through the binary: copy the keyring rows before a rotation, restore them
/// after new writes, restart. It used to start normally, answer `DECRYPTION_FAILED`, and reissue
/// version 2 on the next rotation; now it refuses to start, and `keyring verify` says why.
@Suite("CLI: a rolled-back keyring")
struct KeyringRollbackTests {
    static func sqlite(_ database: String, _ sql: String) throws -> CofferBinary.Result {
        try CofferBinary.runProgram("/usr/bin/sqlite3", [database, sql], environment: [:])
    }

    @Test func aRolledBackKeyringStopsTheServerFromStarting() throws {
        let directory = try CofferBinary.scratch()
        let home = directory + "/home"
        let database = directory + "/.coffer/coffer.db"
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        let env = ["COFFER_ADDR": server.address]
        #expect(try CofferBinary.run(["kv", "put", "app/old", "v=1"], home: home, env: env).status == 0)
        let live = try CofferBinary.run(["keyring", "verify"], home: home, env: env)
        #expect(live.status == 0 && live.stdout.contains("OK: 1 tenants"), "\(live.stdout)\(live.stderr)")

        // The attacker's copy, taken before the rotation.
        let copy = try Self.sqlite(
            database,
            """
            CREATE TABLE bk_keys AS SELECT * FROM data_keys; CREATE TABLE bk_tenants AS SELECT id, active_key_version FROM tenants;
            CREATE TABLE bk_state AS SELECT * FROM keyring_state;
            """)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(try CofferBinary.run(["keyring", "rotate"], home: home, env: env).status == 0)
        #expect(try CofferBinary.run(["kv", "put", "app/new", "v=2"], home: home, env: env).status == 0)
        server.stop()

        let restore = try Self.sqlite(
            database,
            """
            DELETE FROM data_keys; INSERT INTO data_keys SELECT * FROM bk_keys;
            UPDATE tenants SET active_key_version = (SELECT active_key_version FROM bk_tenants WHERE bk_tenants.id = tenants.id);
            DELETE FROM keyring_state; INSERT INTO keyring_state SELECT * FROM bk_state;
            """)
        #expect(restore.status == 0, "\(restore.stderr)")

        let refused = try CofferBinary.run(["dev", "--port", "0"], home: home, cwd: directory)
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains("KEYRING_INVALID") && refused.stderr.contains("'root'") && refused.stderr.contains("version 2"),
            "\(refused.stderr)")
        #expect(!refused.stdout.contains("cft_"), "no token is printed for a server that did not start")

        let offline = try CofferBinary.run(
            ["keyring", "verify", "--storage", "sqlite://\(database)"], home: home, env: ["COFFER_ROOT_KEY_FILE": directory + "/.coffer/root.key"])
        #expect(offline.status == 1)
        #expect(offline.stdout.contains("PROBLEM: tenant 'root'") && offline.stdout.contains("version 2"), "\(offline.stdout)\(offline.stderr)")
    }
}

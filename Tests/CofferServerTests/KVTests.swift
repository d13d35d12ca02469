import CofferCore
import CofferServer
import CofferStore
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: KV v2, Vault-compatible")
struct KVTests {
    @Test func writeReadVersionsAndCAS() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let token = fixture.rootToken
            let first = try await client.call(
                .post, "/v1/secret/data/app/db", token: token, json: ["data": ["password": "p1"], "options": ["cas": 0]])
            #expect(first.status == .ok && first.data["version"] == 1 && first.data["deletion_time"] == "" && first.data["destroyed"] == false)
            #expect(first.body["lease_id"] == "" && first.body["request_id"] != nil && first.body["wrap_info"] == .null)
            let mismatch = try await client.call(
                .put, "/v1/secret/data/app/db", token: token, json: ["data": ["password": "p2"], "options": ["cas": 0]])
            #expect(mismatch.status == .badRequest && mismatch.code == "CAS_MISMATCH")
            try await client.call(.put, "/v1/secret/data/app/db", token: token, json: ["data": ["password": "p2", "n": 3], "options": ["cas": 1]])

            let latest = try await client.call(.get, "/v1/secret/data/app/db", token: token)
            #expect(latest.data["data"] == ["password": "p2", "n": 3])
            #expect(latest.data["metadata"]?["version"] == 2)
            let old = try await client.call(.get, "/v1/secret/data/app/db?version=1", token: token)
            #expect(old.data["data"]?["password"] == "p1")
            let missing = try await client.call(.get, "/v1/secret/data/app/db?version=9", token: token)
            #expect(missing.status == .notFound)
            let none = try await client.call(.get, "/v1/secret/data/app/nothing", token: token)
            #expect(none.status == .notFound && none.code == "NOT_FOUND")

            let patched = try await client.call(.patch, "/v1/secret/data/app/db", token: token, json: ["data": ["n": nil, "extra": "e"]])
            #expect(patched.data["version"] == 3)
            #expect(try await client.call(.get, "/v1/secret/data/app/db", token: token).data["data"] == ["password": "p2", "extra": "e"])
        }
    }

    @Test func deleteUndeleteDestroyMatchVault() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let token = fixture.rootToken
            for value in ["a", "b", "c"] { try await client.call(.post, "/v1/secret/data/svc", token: token, json: ["data": ["v": .string(value)]]) }
            #expect(try await client.call(.delete, "/v1/secret/data/svc", token: token).status == .noContent)
            let deleted = try await client.call(.get, "/v1/secret/data/svc", token: token)
            #expect(deleted.status == .notFound, "a deleted version reads as 404")
            #expect(deleted.data["data"] == .null)
            #expect(deleted.data["metadata"]?["deletion_time"]?.stringValue?.isEmpty == false, "…with its metadata, like Vault")
            #expect(deleted.data["metadata"]?["version"] == 3)

            try await client.call(.post, "/v1/secret/undelete/svc", token: token, json: ["versions": [3]])
            #expect(try await client.call(.get, "/v1/secret/data/svc", token: token).data["data"]?["v"] == "c")
            try await client.call(.post, "/v1/secret/delete/svc", token: token, json: ["versions": [1, 2]])
            #expect(try await client.call(.get, "/v1/secret/data/svc?version=2", token: token).status == .notFound)
            try await client.call(.put, "/v1/secret/destroy/svc", token: token, json: ["versions": [1]])
            let destroyed = try await client.call(.get, "/v1/secret/data/svc?version=1", token: token)
            #expect(destroyed.status == .notFound && destroyed.data["metadata"]?["destroyed"] == true)
            try await client.call(.post, "/v1/secret/undelete/svc", token: token, json: ["versions": [1]])
            #expect(try await client.call(.get, "/v1/secret/data/svc?version=1", token: token).status == .notFound, "destroy is final")
            let empty = try await client.call(.post, "/v1/secret/destroy/svc", token: token, json: ["versions": []])
            #expect(empty.status == .badRequest)

            let metadata = try await client.call(.get, "/v1/secret/metadata/svc", token: token)
            #expect(metadata.data["current_version"] == 3 && metadata.data["oldest_version"] == 1)
            #expect(metadata.data["versions"]?["1"]?["destroyed"] == true)
            #expect(metadata.data["versions"]?["2"]?["deletion_time"]?.stringValue?.isEmpty == false)
            #expect(metadata.data["versions"]?["3"]?["deletion_time"] == "")
        }
    }

    @Test func metadataMaxVersionsCASRequiredAndList() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let token = fixture.rootToken
            #expect(
                try await client.call(
                    .post, "/v1/secret/metadata/team/api", token: token,
                    json: ["max_versions": 2, "cas_required": true, "custom_metadata": ["owner": "payments"], "delete_version_after": "720h"]
                ).status == .noContent)
            let refused = try await client.call(.post, "/v1/secret/data/team/api", token: token, json: ["data": ["k": "1"]])
            #expect(refused.status == .badRequest && refused.code == "CAS_REQUIRED")
            for cas in 0..<3 {
                try await client.call(
                    .post, "/v1/secret/data/team/api", token: token, json: ["data": ["k": .int(cas)], "options": ["cas": .int(cas)]])
            }
            let metadata = try await client.call(.get, "/v1/secret/metadata/team/api", token: token)
            #expect(metadata.data["max_versions"] == 2 && metadata.data["cas_required"] == true)
            #expect(metadata.data["custom_metadata"] == ["owner": "payments"] && metadata.data["delete_version_after"] == "720h0m0s")
            #expect(metadata.data["versions"]?.objectValue?.keys.sorted() == ["2", "3"], "max_versions prunes the oldest")
            let badMax = try await client.call(.post, "/v1/secret/metadata/team/api", token: token, json: ["max_versions": "lots"])
            #expect(badMax.status == .badRequest)

            try await client.call(.post, "/v1/secret/data/team/db", token: token, json: ["data": ["k": "v"]])
            try await client.call(.post, "/v1/secret/data/team/nested/deep", token: token, json: ["data": ["k": "v"]])
            let list = try await client.call(.get, "/v1/secret/metadata/team?list=true", token: token)
            #expect(list.data["keys"] == ["api", "db", "nested/"])
            let root = try await client.call(.get, "/v1/secret/metadata?list=true", token: token)
            #expect(root.data["keys"] == ["team/"])
            #expect(try await client.call(.get, "/v1/secret/metadata/nope?list=true", token: token).status == .notFound)

            #expect(try await client.call(.delete, "/v1/secret/metadata/team/db", token: token).status == .noContent)
            #expect(try await client.call(.get, "/v1/secret/data/team/db", token: token).status == .notFound)
            #expect(try await client.call(.get, "/v1/secret/metadata/team?list=true", token: token).data["keys"] == ["api", "nested/"])
        }
    }

    /// A ciphertext copied to another row (or tenant) in the database must not decrypt there.
    @Test func ciphertextMovedInTheDatabaseFailsToDecrypt() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let token = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/a", token: token, json: ["data": ["v": "value-of-a"]])
            try await client.call(.post, "/v1/secret/data/b", token: token, json: ["data": ["v": "value-of-b"]])
            let tenantB = try await client.call(.post, "/v1/sys/tenants", token: token, json: ["name": "tenant-b"])
            let tokenB = try #require(tenantB.body["auth"]?["client_token"]?.stringValue)
            try await client.call(.post, "/v1/secret/data/a", token: tokenB, json: ["data": ["v": "b-tenant-a"]])

            let db = fixture.storage.database
            let rootID = try #require(try await fixture.storage.tenants.tenant(named: "root")?.id)
            let bID = try #require(try await fixture.storage.tenants.tenant(named: "tenant-b")?.id)
            // Same tenant, other path.
            try await db.query(
                "UPDATE kv_versions SET blob = (SELECT blob FROM kv_versions WHERE tenant_id = $1 AND path = 'a') WHERE tenant_id = $1 AND path = 'b'",
                [.text(rootID)])
            fixture.storage.invalidateCaches()  // the server caches what it read; these rows were changed behind its back
            let moved = try await client.call(.get, "/v1/secret/data/b", token: token)
            #expect(moved.code == "DECRYPTION_FAILED")
            #expect(!moved.raw.contains("value-of-a"))
            // Other tenant, same path: tenant B's data key cannot open root's blob, nor the other way.
            try await db.query(
                "UPDATE kv_versions SET blob = (SELECT blob FROM kv_versions WHERE tenant_id = $1 AND path = 'a') WHERE tenant_id = $2 AND path = 'a'",
                [.text(rootID), .text(bID)])
            fixture.storage.invalidateCaches()
            #expect(try await client.call(.get, "/v1/secret/data/a", token: tokenB).code == "DECRYPTION_FAILED")
            // Version renumbering is also detected.
            try await db.query("UPDATE kv_versions SET version = 5 WHERE tenant_id = $1 AND path = 'a'", [.text(rootID)])
            try await db.query("UPDATE kv_metadata SET current_version = 5 WHERE tenant_id = $1 AND path = 'a'", [.text(rootID)])
            fixture.storage.invalidateCaches()
            #expect(try await client.call(.get, "/v1/secret/data/a", token: token).code == "DECRYPTION_FAILED")
            // A header rewritten to name a data-key version that does not exist.
            try await db.query(
                "UPDATE kv_versions SET blob = $2 WHERE tenant_id = $1 AND path = 'b'",
                [.text(rootID), .blob([1, 0, 0, 0, 99] + [UInt8](repeating: 0, count: 40))])
            fixture.storage.invalidateCaches()
            #expect(try await client.call(.get, "/v1/secret/data/b", token: token).code == "DECRYPTION_FAILED")
        }
    }

    @Test func environmentReferencesResolveOnlyWhenAllowed() async throws {
        let fixture = try await Fixture.make(envReferences: ["APP_*"], environment: ["APP_DB_PASSWORD": "from-env", "COFFER_ROOT_KEY": "nope"])
        try await fixture.test { client in
            let token = fixture.rootToken
            let written = try await client.call(
                .post, "/v1/secret/data/ref", token: token,
                json: ["data": ["db": "$APP_DB_PASSWORD", "root": "$COFFER_ROOT_KEY", "plain": "x", "missing": "$APP_NOT_SET"]])
            #expect(written.data["env_references"] == ["db", "missing"])
            let unresolved = try await client.call(.get, "/v1/secret/data/ref", token: token)
            #expect(unresolved.code == "REFERENCE_UNRESOLVED" && unresolved.status == .unprocessableContent)
            #expect(unresolved.raw.contains("APP_NOT_SET") && !unresolved.raw.contains("from-env"))
            try await client.call(.post, "/v1/secret/data/ref", token: token, json: ["data": ["db": "$APP_DB_PASSWORD", "root": "$COFFER_ROOT_KEY"]])
            let read = try await client.call(.get, "/v1/secret/data/ref", token: token)
            #expect(read.data["data"]?["db"] == "from-env")
            #expect(read.data["data"]?["root"] == "$COFFER_ROOT_KEY", "the server's own variables stay literal")
            #expect(try await client.call(.get, "/v1/secret/metadata/ref", token: token).data["versions"]?["2"]?["env_references"] == ["db"])
        }
    }
}

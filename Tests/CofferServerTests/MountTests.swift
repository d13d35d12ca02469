import CofferCore
import CofferStore
import Foundation
import HTTPTypes
import Testing

@testable import CofferServer

/// `sys/mounts`: KV v2 engines at any free path, each with its own data, scopes and AAD; mount config
/// (`max_versions`, `cas_required`, `delete_version_after`, enforced); disabling removes the data.
@Suite struct MountTests {
    @Test func kvMountsHaveTheirOwnDataScopesAndAAD() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let enabled = try await client.call(
                .post, "/v1/sys/mounts/team", token: root,
                json: ["type": "kv", "options": ["version": "2"], "description": "team secrets", "config": nil, "local": false, "seal_wrap": false])
            #expect(enabled.status == .noContent, "\(enabled.raw)")
            let listed = try await client.call(.get, "/v1/sys/mounts", token: root)
            #expect(listed.data["team/"]?["options"]?["version"] == "2" && listed.data["team/"]?["type"] == "kv", "\(listed.raw)")
            #expect(listed.body["secret/"]?["type"] == "kv" && listed.data["transit/"]?["type"] == "transit", "top level too, as Vault answers")

            try await client.call(.post, "/v1/team/data/db", token: root, json: ["data": ["password": "team-pw"]])
            #expect(try await client.call(.get, "/v1/team/data/db", token: root).data["data"]?["password"] == "team-pw")
            #expect(try await client.call(.get, "/v1/secret/data/db", token: root).code == "NOT_FOUND", "each mount has its own data")
            #expect(try await client.call(.list, "/v1/team/metadata", token: root).data["keys"] == ["db"])
            #expect(try await client.call(.get, "/v1/nowhere/data/db", token: root).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.get, "/v1/transit/data/db", token: root).code == "ROUTE_NOT_FOUND", "transit is not KV")

            // API-key scopes name the mount.
            let key = try await client.call(.post, "/v1/keys", token: root, json: ["name": "team-reader", "scopes": ["kv:read:team/*"]])
            let teamKey = try #require(key.body["data"]?["key"]?.stringValue)
            try await client.call(.post, "/v1/secret/data/db", token: root, json: ["data": ["password": "main-pw"]])
            #expect(try await client.call(.get, "/v1/team/data/db", bearer: teamKey).data["data"]?["password"] == "team-pw")
            #expect(try await client.call(.get, "/v1/secret/data/db", bearer: teamKey).code == "PERMISSION_DENIED")

            // The vault CLI's preflight.
            let ui = try await client.call(.get, "/v1/sys/internal/ui/mounts/team/db", token: root)
            #expect(ui.data["path"] == "team/" && ui.data["options"]?["version"] == "2", "\(ui.raw)")
            #expect(try await client.call(.get, "/v1/sys/internal/ui/mounts/secret", token: root).data["path"] == "secret/")
            #expect(try await client.call(.get, "/v1/sys/internal/ui/mounts/nowhere/x", token: root).code == "NOT_FOUND")

            // Another tenant sees none of it.
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "other"])
            let otherToken = try #require(other.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/team/data/db", token: otherToken).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.get, "/v1/sys/mounts", token: otherToken).data["team/"] == nil)
            // A blob moved to another mount does not open: the mount is in the AAD.
            try await fixture.storage.database.query(
                """
                INSERT INTO kv_metadata (tenant_id, mount, path, current_version, oldest_version, max_versions, cas_required,
                  delete_version_after, custom_metadata, created_at, updated_at)
                SELECT tenant_id, 'moved', path, current_version, oldest_version, max_versions, cas_required, delete_version_after,
                  custom_metadata, created_at, updated_at FROM kv_metadata WHERE mount = 'team' AND path = 'db'
                """, [])
            try await fixture.storage.database.query("UPDATE kv_versions SET mount = 'moved' WHERE mount = 'team' AND path = 'db'", [])
            #expect(try await client.call(.post, "/v1/sys/mounts/moved", token: root, json: ["type": "kv-v2"]).status == .noContent)
            fixture.storage.invalidateCaches()
            #expect(try await client.call(.get, "/v1/moved/data/db", token: root).code == "DECRYPTION_FAILED")
        }
    }

    /// Transit engines at any path: their own keys (same name, different key), scopes naming the mount,
    /// removed with the mount.
    @Test func transitMountsHaveTheirOwnKeys() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            #expect(try await client.call(.post, "/v1/sys/mounts/pay-transit", token: root, json: ["type": "transit"]).status == .noContent)
            #expect(try await client.call(.get, "/v1/sys/mounts", token: root).data["pay-transit/"]?["type"] == "transit")
            try await client.call(.post, "/v1/transit/keys/k", token: root, json: [:])
            let created = try await client.call(.post, "/v1/pay-transit/keys/k", token: root, json: ["type": "ed25519"])
            #expect(created.data["name"] == "k" && created.data["type"] == "ed25519", "\(created.raw)")
            #expect(try await client.call(.get, "/v1/transit/keys/k", token: root).data["type"] == "aes256-gcm96", "same name, another key")
            #expect(try await client.call(.list, "/v1/pay-transit/keys", token: root).data["keys"] == ["k"])
            #expect(try await client.call(.list, "/v1/transit/keys", token: root).data["keys"] == ["k"])
            try await client.call(.post, "/v1/pay-transit/keys/enc", token: root, json: [:])
            let plaintext = JSONValue.string(Data("pay".utf8).base64EncodedString())
            let sealed = try await client.call(.post, "/v1/pay-transit/encrypt/enc", token: root, json: ["plaintext": plaintext])
            let ciphertext = try #require(sealed.data["ciphertext"]?.stringValue)
            try await client.call(.post, "/v1/transit/keys/enc", token: root, json: [:])
            let crossed = try await client.call(.post, "/v1/transit/decrypt/enc", token: root, json: ["ciphertext": .string(ciphertext)])
            #expect(crossed.status == .badRequest && crossed.code == "DECRYPTION_FAILED", "another mount's key of the same name: \(crossed.raw)")
            #expect(
                try await client.call(.post, "/v1/pay-transit/decrypt/enc", token: root, json: ["ciphertext": .string(ciphertext)]).data["plaintext"]
                    == plaintext)
            #expect(try await client.call(.post, "/v1/secret/encrypt/enc", token: root, json: ["plaintext": plaintext]).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.post, "/v1/pay-transit/hash", token: root, json: ["input": plaintext]).status == .ok)

            // Scopes name the mount for keys outside transit/.
            let key = try await client.call(.post, "/v1/keys", token: root, json: ["name": "payer", "scopes": ["transit:encrypt:pay-transit/enc"]])
            let apiKey = try #require(key.data["key"]?.stringValue)
            #expect(try await client.call(.post, "/v1/pay-transit/encrypt/enc", bearer: apiKey, json: ["plaintext": plaintext]).status == .ok)
            #expect(
                try await client.call(.post, "/v1/transit/encrypt/enc", bearer: apiKey, json: ["plaintext": plaintext]).code == "PERMISSION_DENIED")

            #expect(try await client.call(.delete, "/v1/sys/mounts/pay-transit", token: root).status == .noContent)
            let left = try await fixture.storage.database.query("SELECT name FROM transit_keys ORDER BY name", [])
            #expect(try left.map { try $0.text("name") } == ["enc", "k"], "the mount's keys are gone, transit/'s stay")
            #expect(try await client.call(.get, "/v1/pay-transit/keys/k", token: root).code == "ROUTE_NOT_FOUND")
            // Re-enabled, the path starts empty: no key survives in a cache.
            #expect(try await client.call(.post, "/v1/sys/mounts/pay-transit", token: root, json: ["type": "transit"]).status == .noContent)
            #expect(try await client.call(.get, "/v1/pay-transit/keys/k", token: root).code == "NOT_FOUND")
            #expect(
                try await client.call(.post, "/v1/pay-transit/decrypt/enc", token: root, json: ["ciphertext": .string(ciphertext)]).code
                    == "NOT_FOUND")
        }
    }

    @Test func enablingRefusesWhatCofferCannotDo() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let refused: [(String, JSONValue, String)] = [
                ("kv1", ["type": "kv"], "version 1"), ("tr", ["type": "transit", "options": ["version": "2"]], "options"),
                ("sys", ["type": "kv-v2"], "reserved"),
                ("auth", ["type": "kv-v2"], "reserved"), ("Bad_Case", ["type": "kv-v2"], "mount path"), ("secret", ["type": "kv-v2"], "in use"),
                ("x", ["type": "kv-v2", "seal_wrap": true], "seal_wrap"), ("x", ["type": "kv-v2", "colour": 1], "colour"),
                ("x", ["type": "pki"], "type"), ("x", ["type": "kv-v2", "config": ["audit_non_hmac_request_keys": ["password"]]], "audit_non_hmac"),
                ("x", ["type": "kv", "options": ["version": "2", "other": "1"]], "options.other"),
            ]
            for (path, body, needle) in refused {
                let reply = try await client.call(.post, "/v1/sys/mounts/\(path)", token: root, json: body)
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains(needle), "\(path) \(body): \(reply.raw)")
            }
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/sys/mounts/mine", token: modifier, json: ["type": "kv-v2"]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/sys/mounts/twice", token: root, json: ["type": "kv-v2"]).status == .noContent)
            let again = try await client.call(.post, "/v1/sys/mounts/twice", token: root, json: ["type": "kv-v2"])
            #expect(again.code == "INVALID_REQUEST" && again.raw.contains("path is already in use at twice/"))

            // Tune: description and lease TTLs; anything else refused.
            #expect(
                try await client.call(.post, "/v1/sys/mounts/twice/tune", token: root, json: ["description": "d", "default_lease_ttl": "1h"]).status
                    == .noContent)
            let tune = try await client.call(.get, "/v1/sys/mounts/twice/tune", token: root)
            #expect(tune.data["description"] == "d" && tune.data["default_lease_ttl"] == 3600, "\(tune.raw)")
            #expect(try await client.call(.post, "/v1/sys/mounts/twice/tune", token: root, json: ["bogus": 1]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/sys/mounts/secret/tune", token: root, json: ["max_lease_ttl": "2h"]).status == .noContent)
            #expect(try await client.call(.get, "/v1/sys/mounts/secret", token: root).data["config"]?["max_lease_ttl"] == 7200)
            #expect(try await client.call(.get, "/v1/secret/data/none", token: root).code == "NOT_FOUND", "a tuned built-in mount still serves")
        }
    }

    @Test func mountConfigIsEnforcedAndDisablingRemovesTheData() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/sys/mounts/cfg", token: root, json: ["type": "kv-v2"])
            let config: JSONValue = ["max_versions": 2, "cas_required": true, "delete_version_after": "1h"]
            #expect(try await client.call(.post, "/v1/cfg/config", token: root, json: config).status == .noContent)
            let read = try await client.call(.get, "/v1/cfg/config", token: root)
            #expect(read.data["max_versions"] == 2 && read.data["cas_required"] == true && read.data["delete_version_after"] == "1h0m0s")
            #expect(try await client.call(.post, "/v1/cfg/config", token: root, json: ["max_versions": -1]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/cfg/config", token: root, json: ["ttl": 1]).code == "INVALID_REQUEST")
            let viewer = try await client.token(root, role: "viewer")
            #expect(try await client.call(.post, "/v1/cfg/config", token: viewer, json: ["max_versions": 9]).code == "PERMISSION_DENIED")

            #expect(try await client.call(.post, "/v1/cfg/data/app", token: root, json: ["data": ["v": 1]]).code == "CAS_REQUIRED")
            for (cas, value) in [(0, 1), (1, 2), (2, 3)] {
                let wrote = try await client.call(
                    .post, "/v1/cfg/data/app", token: root, json: ["data": ["v": .int(value)], "options": ["cas": .int(cas)]])
                #expect(wrote.status == .ok, "\(wrote.raw)")
            }
            let metadata = try await client.call(.get, "/v1/cfg/metadata/app", token: root)
            #expect(metadata.data["versions"]?.objectValue?.keys.sorted() == ["2", "3"], "max_versions 2 from the mount: \(metadata.raw)")
            #expect(
                try await client.call(.post, "/v1/secret/data/free", token: root, json: ["data": ["v": 1]]).status == .ok, "other mounts unaffected")

            // delete_version_after: readers see a due version as deleted at once; the job records it, audited.
            fixture.clock.advance(millis: 3_600_000)
            let due = try await client.call(.get, "/v1/cfg/data/app", token: root)
            #expect(due.status == .notFound && due.data["metadata"]?["deletion_time"] != "", "\(due.raw)")
            #expect(try await fixture.runtime.deleteDueVersions() == 2)
            #expect(try await fixture.runtime.deleteDueVersions() == 0, "nothing left due")
            let rows = try await fixture.storage.database.query(
                "SELECT COUNT(*) AS n FROM kv_versions WHERE mount = 'cfg' AND deleted_at IS NOT NULL", [])
            #expect(try rows.first?.int("n") == 2)
            let audit = try await client.call(.get, "/v1/audit/entries?operation=kv.delete_version_after", token: root)
            guard case .array(let entries) = audit.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            #expect(entries.count == 1 && entries.first?["details"]?["versions"] == "cfg/app@2 cfg/app@3", "\(audit.raw)")
            #expect(try await client.call(.get, "/v1/secret/data/free", token: root).status == .ok, "the default mount has no delete_version_after")

            // Disabling removes the data (audited); the built-ins cannot be disabled; a missing mount is a no-op as in Vault.
            #expect(try await client.call(.delete, "/v1/sys/mounts/cfg", token: root).status == .noContent)
            let left = try await fixture.storage.database.query("SELECT COUNT(*) AS n FROM kv_metadata WHERE mount = 'cfg'", [])
            #expect(try left.first?.int("n") == 0)
            #expect(try await client.call(.get, "/v1/cfg/data/app", token: root).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.delete, "/v1/sys/mounts/secret", token: root).code == "INVALID_REQUEST")
            #expect(try await client.call(.delete, "/v1/sys/mounts/never", token: root).status == .noContent)
            let disabled = try await client.call(.get, "/v1/audit/entries?operation=sys.mounts.disable", token: root)
            #expect(disabled.raw.contains("\"secrets_removed\":\"1\""), "\(disabled.raw)")
            try await client.call(.post, "/v1/sys/mounts/cfg", token: root, json: ["type": "kv-v2"])
            #expect(try await client.call(.get, "/v1/cfg/data/app", token: root).code == "NOT_FOUND", "re-enabled empty")
        }
    }
}

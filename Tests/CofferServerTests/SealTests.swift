import CofferCore
import CofferTestSupport
import Foundation
import HTTPTypes
import Testing

@testable import CofferServer

/// `sys/seal` drops every key; while sealed only health, seal-status and unseal answer; `sys/unseal`
/// with the root key the server started with brings it back, and nothing stored is lost.
@Suite struct SealTests {
    @Test func sealDropsTheKeysAndUnsealRestoresThem() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["password": "before-seal"]])
            try await client.call(.post, "/v1/transit/keys/orders", token: root, json: [:])
            let sealedText = try await client.call(
                .post, "/v1/transit/encrypt/orders", token: root, json: ["plaintext": .string(Data("x".utf8).base64EncodedString())])
            let ciphertext = try #require(sealedText.data["ciphertext"]?.stringValue)
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.put, "/v1/sys/seal", token: modifier).code == "PERMISSION_DENIED")
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "team"])
            let teamAdmin = try #require(other.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.put, "/v1/sys/seal", token: teamAdmin).code == "PERMISSION_DENIED", "only the system tenant's admins")
            #expect(try await client.call(.put, "/v1/sys/seal", token: root).status == .noContent)

            #expect(fixture.runtime.keyring.isSealed)
            expectError(.sealed, "the hashing key is gone from memory") { try fixture.runtime.keyring.credentialHasher() }
            expectError(.sealed) { try fixture.runtime.keyring.auditSigningKey() }
            let refused = try await client.call(.get, "/v1/secret/data/app", token: root)
            #expect(refused.status == .serviceUnavailable && refused.code == "SEALED" && refused.body["errors"] == ["Vault is sealed"])
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: root).code == "SEALED")
            #expect(try await client.call(.put, "/v1/sys/seal", token: root).code == "SEALED")
            let health = try await client.call(.get, "/v1/sys/health")
            #expect(health.status == .serviceUnavailable && health.body["sealed"] == true)
            #expect(try await client.call(.get, "/v1/sys/seal-status").body["sealed"] == true)

            // A wrong key, a junk body, an unknown field: refused, still sealed.
            let wrong = try await client.call(.put, "/v1/sys/unseal", json: ["key": .string(Base64.encode(SecureRandom.bytes(32)))])
            #expect(wrong.code == "INVALID_REQUEST" && !wrong.raw.contains("key\":"), "\(wrong.raw)")
            #expect(try await client.call(.put, "/v1/sys/unseal", json: ["key": "a passphrase that is wrong"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.put, "/v1/sys/unseal", json: ["key": .string(fixture.rootKey), "shares": 1]).code == "INVALID_REQUEST")
            #expect(try await client.call(.put, "/v1/sys/unseal", json: [:]).code == "INVALID_REQUEST")
            #expect(fixture.runtime.keyring.isSealed)

            let unsealed = try await client.call(.put, "/v1/sys/unseal", json: ["key": .string(fixture.rootKey), "reset": false, "migrate": false])
            #expect(unsealed.status == .ok && unsealed.body["sealed"] == false, "\(unsealed.raw)")
            #expect(try await client.call(.get, "/v1/sys/health").status == .ok)
            #expect(try await client.call(.get, "/v1/secret/data/app", token: root).data["data"]?["password"] == "before-seal")
            let decrypted = try await client.call(.post, "/v1/transit/decrypt/orders", token: root, json: ["ciphertext": .string(ciphertext)])
            #expect(decrypted.data["plaintext"]?.stringValue == Data("x".utf8).base64EncodedString())
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: modifier).status == .ok, "tokens survive a seal")

            // Seal and unseal are in the system tenant's audit chain; the key never is.
            let audit = try await client.call(.get, "/v1/audit/entries", token: root)
            guard case .array(let entries) = audit.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            let operations = entries.compactMap { $0["operation"]?.stringValue }
            #expect(operations.contains("sys.seal") && operations.contains("sys.unseal"), "\(operations)")
            #expect(!audit.raw.contains(fixture.rootKey))
            #expect(try await client.call(.post, "/v1/audit/verify", token: root, json: [:]).data["ok"] == true)
        }
    }
}

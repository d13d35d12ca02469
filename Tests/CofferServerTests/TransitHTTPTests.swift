import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: transit, protect and unprotect")
struct TransitHTTPTests {
    static func b64(_ text: String) -> JSONValue { .string(Data(text.utf8).base64EncodedString()) }

    @Test func transitOperationsAndTheirRefusals() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for (name, type) in [("orders", "aes256-gcm96"), ("pq-sign", "ml-dsa-65"), ("pq-enc", "ml-kem-768"), ("derived", "chacha20-poly1305")] {
                var body: [String: JSONValue] = ["type": .string(type)]
                if name == "derived" { body["derived"] = true }
                let created = try await client.call(.post, "/v1/transit/keys/\(name)", token: root, json: .object(body))
                #expect(created.status == .ok && created.data["type"]?.stringValue == type, "\(created.raw)")
            }
            #expect(try await client.call(.post, "/v1/transit/keys/bad", token: root, json: ["type": "rsa-1024"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/transit/keys/x", token: root, json: ["exportable": true]).code == "INVALID_REQUEST")
            let read = try await client.call(.get, "/v1/transit/keys/pq-sign", token: root)
            #expect(read.data["keys"]?["1"]?["public_key"]?.stringValue?.isEmpty == false && read.data["supports_signing"] == true)
            #expect(!read.raw.contains("material"), "private material is never returned")

            let encrypted = try await client.call(.post, "/v1/transit/encrypt/orders", token: root, json: ["plaintext": Self.b64("secret order")])
            let ciphertext = try #require(encrypted.data["ciphertext"]?.stringValue)
            #expect(!encrypted.raw.contains("secret order"))
            let decrypted = try await client.call(.post, "/v1/transit/decrypt/orders", token: root, json: ["ciphertext": .string(ciphertext)])
            #expect(decrypted.data["plaintext"] == Self.b64("secret order"))
            for tampered in [String(ciphertext.dropLast(2)) + "AA", "vault:v1:", "vault:v9:" + ciphertext.dropFirst(9), "nonsense"] {
                let reply = try await client.call(.post, "/v1/transit/decrypt/orders", token: root, json: ["ciphertext": .string(tampered)])
                #expect(
                    reply.status == .badRequest && ["DECRYPTION_FAILED", "INVALID_REQUEST"].contains(reply.code ?? ""), "\(tampered): \(reply.raw)")
            }
            #expect(
                try await client.call(.post, "/v1/transit/decrypt/nope", token: root, json: ["ciphertext": .string(ciphertext)]).code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/transit/encrypt/orders", token: root, json: ["plaintext": "%%%"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/transit/sign/orders", token: root, json: ["input": Self.b64("x")]).code == "INVALID_REQUEST")
            #expect(
                try await client.call(.post, "/v1/transit/encrypt/derived", token: root, json: ["plaintext": Self.b64("x")]).code
                    == "INVALID_REQUEST",
                "derived keys need a context")
            let withContext = try await client.call(
                .post, "/v1/transit/encrypt/derived", token: root, json: ["plaintext": Self.b64("x"), "context": Self.b64("user-1")])
            let derivedCiphertext = try #require(withContext.data["ciphertext"])
            let otherContext = try await client.call(
                .post, "/v1/transit/decrypt/derived", token: root, json: ["ciphertext": derivedCiphertext, "context": Self.b64("user-2")])
            #expect(otherContext.code == "DECRYPTION_FAILED")

            // Batches: per-item results; one bad item does not fail the others.
            let batch = try await client.call(
                .post, "/v1/transit/encrypt/orders", token: root,
                json: ["plaintext": nil, "batch_input": [["plaintext": Self.b64("a")], ["plaintext": "%%%"], ["plaintext": Self.b64("c")]]])
            #expect(batch.status == .ok)
            guard case .array(let results) = batch.data["batch_results"] ?? .null else { throw CofferError(.internalError, batch.raw) }
            #expect(results.count == 3 && results[1]["code"] == "INVALID_REQUEST" && results[2]["ciphertext"] != nil)

            // Lifecycle: rotation, deprecated versions, min_decryption_version, expiry — refused and counted.
            _ = try await client.call(.post, "/v1/transit/keys/orders/rotate", token: root)
            let old = try await client.call(.post, "/v1/transit/encrypt/orders", token: root, json: ["plaintext": Self.b64("x"), "key_version": 1])
            #expect(old.code == "KEY_DISABLED", "a deprecated version no longer encrypts")
            #expect(try await client.call(.post, "/v1/transit/decrypt/orders", token: root, json: ["ciphertext": .string(ciphertext)]).status == .ok)
            _ = try await client.call(.post, "/v1/transit/keys/orders/config", token: root, json: ["min_decryption_version": 2])
            let retired = try await client.call(.post, "/v1/transit/decrypt/orders", token: root, json: ["ciphertext": .string(ciphertext)])
            #expect(retired.status == .badRequest && retired.code == "KEY_DISABLED")
            let rewrapped = try await client.call(.post, "/v1/transit/rewrap/orders", token: root, json: ["ciphertext": .string(ciphertext)])
            #expect(rewrapped.code == "KEY_DISABLED")
            let trimmed = try await client.call(.post, "/v1/transit/keys/orders/trim", token: root, json: ["min_available_version": 2])
            #expect(trimmed.data["min_available_version"] == 2)
            let expiry = Timestamp.rfc3339(fixture.clock.nowMillis + 60_000)
            _ = try await client.call(.post, "/v1/transit/keys/orders/config", token: root, json: ["expires_at": .string(expiry)])
            fixture.clock.advance(millis: 60_000)
            let expired = try await client.call(.post, "/v1/transit/encrypt/orders", token: root, json: ["plaintext": Self.b64("x")])
            #expect(expired.status == .badRequest && expired.code == "KEY_EXPIRED")
            let counts = try await client.call(.get, "/v1/transit/keys/orders", token: root).data["refusals"]
            #expect(counts?["KEY_EXPIRED"] == 1 && counts?["KEY_DISABLED"] == 3, "deprecated encrypt, retired decrypt, retired rewrap")
            #expect(try await client.call(.delete, "/v1/transit/keys/orders", token: root).code == "INVALID_REQUEST", "deletion not allowed yet")

            // Post-quantum signing and encryption over HTTP.
            let signed = try await client.call(.post, "/v1/transit/sign/pq-sign", token: root, json: ["input": Self.b64("approve")])
            let signature = try #require(signed.data["signature"])
            #expect(
                try await client.call(.post, "/v1/transit/verify/pq-sign", token: root, json: ["input": Self.b64("approve"), "signature": signature])
                    .data["valid"] == true)
            #expect(
                try await client.call(.post, "/v1/transit/verify/pq-sign", token: root, json: ["input": Self.b64("deny"), "signature": signature])
                    .data["valid"] == false)
            let kem = try await client.call(.post, "/v1/transit/encrypt/pq-enc", token: root, json: ["plaintext": Self.b64("q")])
            #expect(
                try await client.call(.post, "/v1/transit/decrypt/pq-enc", token: root, json: ["ciphertext": kem.data["ciphertext"] ?? nil]).data[
                    "plaintext"] == Self.b64("q"))
            let mac = try await client.call(.post, "/v1/transit/hmac/pq-sign", token: root, json: ["input": Self.b64("m")])
            #expect(
                try await client.call(
                    .post, "/v1/transit/verify/pq-sign", token: root, json: ["input": Self.b64("m"), "hmac": mac.data["hmac"] ?? nil]
                ).data["valid"] == true)
            let datakey = try await client.call(.post, "/v1/transit/datakey/plaintext/pq-enc", token: root, json: [:])
            #expect(datakey.data["plaintext"] != nil && datakey.data["ciphertext"]?.stringValue?.hasPrefix("vault:v1:") == true)
            #expect(try await client.call(.post, "/v1/transit/datakey/wrapped/pq-enc", token: root, json: [:]).data["plaintext"] == nil)

            // Scopes: an API key allowed to encrypt with one key only.
            let scoped = try await client.call(.post, "/v1/keys", token: root, json: ["name": "svc", "scopes": ["transit:encrypt:pq-enc"]])
            let key = try #require(scoped.data["key"]?.stringValue)
            #expect(try await client.call(.post, "/v1/transit/encrypt/pq-enc", bearer: key, json: ["plaintext": Self.b64("x")]).status == .ok)
            #expect(
                try await client.call(.post, "/v1/transit/decrypt/pq-enc", bearer: key, json: ["ciphertext": kem.data["ciphertext"] ?? nil]).code
                    == "PERMISSION_DENIED")
            #expect(
                try await client.call(.post, "/v1/transit/encrypt/derived", bearer: key, json: ["plaintext": Self.b64("x")]).code
                    == "PERMISSION_DENIED")
            let viewer = try await client.token(root, role: "viewer")
            #expect(
                try await client.call(.post, "/v1/transit/encrypt/pq-enc", token: viewer, json: ["plaintext": Self.b64("x")]).code
                    == "PERMISSION_DENIED")
            #expect(!fixture.logs.all.contains("secret order") && !fixture.logs.all.contains(Data("secret order".utf8).base64EncodedString()))
        }
    }

    /// `hash` matches published digests (FIPS 180-2 and FIPS 202 "abc" vectors); `random` gives the bytes
    /// asked; export, backup and restore are refused saying why; config refuses unknown fields.
    @Test func hashRandomAndTheRefusedKeyExports() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let vectors: [(String, String)] = [
                ("sha2-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                ("sha3-256", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"),
                (
                    "sha2-512",
                    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
                ),
            ]
            for (algorithm, hex) in vectors {
                let reply = try await client.call(
                    .post, "/v1/transit/hash/\(algorithm)", token: root, json: ["input": Self.b64("abc"), "format": "hex"])
                #expect(reply.data["sum"]?.stringValue == hex, "\(algorithm): \(reply.raw)")
            }
            let inBody = try await client.call(.post, "/v1/transit/hash", token: root, json: ["input": Self.b64("abc"), "algorithm": "sha2-256"])
            #expect(inBody.data["sum"]?.stringValue == Data([UInt8](hex: vectors[0].1) ?? []).base64EncodedString())
            for (body, needle) in [
                (["input": Self.b64("abc"), "algorithm": "sha2-224"] as JSONValue, "sha2-224"), (["input": "***"], "base64"),
                (["input": Self.b64("abc"), "format": "binary"], "format"), (["input": Self.b64("abc"), "salt": "x"], "salt"),
            ] {
                let reply = try await client.call(.post, "/v1/transit/hash", token: root, json: body)
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains(needle), "\(reply.raw)")
            }
            let random = try await client.call(.post, "/v1/transit/random/48", token: root, json: ["format": "hex"])
            #expect(random.data["random_bytes"]?.stringValue?.count == 96, "\(random.raw)")
            let fromBody = try await client.call(.post, "/v1/transit/random", token: root, json: ["bytes": 16])
            #expect(fromBody.data["random_bytes"]?.stringValue.flatMap { Data(base64Encoded: $0) }?.count == 16)
            #expect(try await client.call(.post, "/v1/transit/random/200000", token: root, json: [:]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/transit/random/seal/16", token: root, json: [:]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/transit/random", token: root, json: ["bytes": -1]).code == "INVALID_REQUEST")

            try await client.call(.post, "/v1/transit/keys/k", token: root, json: [:])
            for path in ["/v1/transit/export/encryption-key/k", "/v1/transit/backup/k"] {
                let reply = try await client.call(.get, path, token: root)
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains("never leaves"), "\(path): \(reply.raw)")
            }
            #expect(try await client.call(.post, "/v1/transit/restore", token: root, json: ["backup": "x"]).code == "INVALID_REQUEST")
            let config = try await client.call(.post, "/v1/transit/keys/k/config", token: root, json: ["min_decryption_version": 1, "colour": "red"])
            #expect(config.code == "INVALID_REQUEST" && config.raw.contains("colour"))
            let hvacDefaults = try await client.call(
                .post, "/v1/transit/keys/k/config", token: root, json: ["deletion_allowed": true, "allow_plaintext_backup": false])
            #expect(hvacDefaults.data["deletion_allowed"] == true, "\(hvacDefaults.raw)")
        }
    }

    @Test func protectAndUnprotectAnswerEveryCode() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            _ = try await client.call(.post, "/v1/transit/keys/sig", token: root, json: ["type": "ed25519-ml-dsa-65", "overlap_period": "1h"])
            _ = try await client.call(.post, "/v1/transit/keys/enc", token: root, json: ["type": "x-wing"])
            _ = try await client.call(.post, "/v1/transit/keys/aes", token: root, json: ["type": "aes256-gcm96"])
            let policies: [(String, JSONValue)] = [
                ("BANK-SIGN", ["mode": "sign", "signing_key": "sig"]), ("BANK-ENC", ["mode": "encrypt", "encryption_key": "enc"]),
                ("BANK-BOTH", ["mode": "sign-then-encrypt", "signing_key": "sig", "encryption_key": "aes"]),
                ("BANK-BOTH-2", ["mode": "sign-then-encrypt", "signing_key": "sig", "encryption_key": "aes"]),
            ]
            for (name, body) in policies {
                #expect(try await client.call(.put, "/v1/policies/\(name)", token: root, json: body).status == .ok)
            }
            #expect(
                try await client.call(.put, "/v1/policies/BAD", token: root, json: ["mode": "sign", "signing_key": "aes"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.put, "/v1/policies/BAD", token: root, json: ["mode": "encrypt"]).code == "INVALID_REQUEST")
            let payload: JSONValue = ["amount": 250_000, "iban": "DE89370400440532013000", "memo": "canary-payload-7"]
            func protect(_ policy: String) async throws -> String {
                let reply = try await client.call(.post, "/v1/protect/\(policy)", token: root, json: ["payload": payload])
                return try #require(reply.data["protected"]?.stringValue, "\(reply.raw)")
            }
            func unprotect(_ policy: String, _ protected: String) async throws -> Fixture.Client.Reply {
                try await client.call(.post, "/v1/unprotect/\(policy)", token: root, json: ["protected": .string(protected)])
            }
            var samples: [String: String] = [:]
            for policy in ["BANK-SIGN", "BANK-ENC", "BANK-BOTH"] {
                let protected = try await protect(policy)
                samples[policy] = protected
                #expect(protected.hasPrefix("cfp1."))
                #expect(policy == "BANK-SIGN" || !protected.contains("DE89"), "encrypted modes hide the payload")
                let back = try await unprotect(policy, protected)
                #expect(back.data["payload"] == payload, "\(policy): \(back.raw)")
            }
            let binary = try await client.call(.post, "/v1/protect/BANK-BOTH", token: root, json: ["payload_base64": Self.b64("raw bytes")])
            let binaryBack = try await unprotect("BANK-BOTH", try #require(binary.data["protected"]?.stringValue))
            #expect(binaryBack.data["payload_base64"] == Self.b64("raw bytes"))

            // Every byte-position class of every mode: any change is refused, with the mode's code.
            for (policy, code) in [("BANK-SIGN", "SIGNATURE_INVALID"), ("BANK-ENC", "DECRYPTION_FAILED"), ("BANK-BOTH", "SIGNATURE_INVALID")] {
                let protected = try #require(samples[policy])
                let dots = protected.indices.filter { protected[$0] == "." }
                var positions = [protected.startIndex, protected.index(before: protected.endIndex)] + dots
                for part in 0..<dots.count {
                    positions.append(protected.index(after: dots[part]))
                    let end = part + 1 < dots.count ? dots[part + 1] : protected.endIndex
                    positions.append(protected.index(protected.index(after: dots[part]), offsetBy: protected.distance(from: dots[part], to: end) / 2))
                }
                for position in positions {
                    var altered = protected
                    let replacement: Character = protected[position] == "A" ? "B" : "A"
                    altered.replaceSubrange(position...position, with: String(replacement))
                    let reply = try await unprotect(policy, altered)
                    #expect(
                        reply.status == .badRequest && reply.code == code,
                        "\(policy) position \(protected.distance(from: protected.startIndex, to: position)): \(reply.raw)")
                    #expect(!reply.raw.contains("canary-payload-7") && reply.body["request_id"] != nil)
                }
                for altered in [protected + "A", String(protected.dropLast()), protected + ".", "cfp1..", "", String(repeating: "A", count: 100)] {
                    #expect(try await unprotect(policy, altered).code == code, "\(policy): \(altered.prefix(20))")
                }
            }
            #expect(try await unprotect("NOPE", try #require(samples["BANK-SIGN"])).code == "POLICY_NOT_FOUND")
            #expect(try await client.call(.post, "/v1/protect/NOPE", token: root, json: ["payload": 1]).code == "POLICY_NOT_FOUND")
            let mismatch = try await unprotect("BANK-BOTH-2", try #require(samples["BANK-BOTH"]))
            #expect(mismatch.status == .badRequest && mismatch.code == "POLICY_MISMATCH", "same keys, other policy")

            // Key transition: rotate the signing key; old payloads still unprotect during the overlap, then not.
            _ = try await client.call(.post, "/v1/transit/keys/sig/rotate", token: root)
            let renewed = try await protect("BANK-SIGN")
            let renewedBack = try await unprotect("BANK-SIGN", renewed)
            #expect(renewedBack.data["payload"] == payload)
            #expect(try await unprotect("BANK-SIGN", try #require(samples["BANK-SIGN"])).data["payload"] == payload, "within the overlap")
            fixture.clock.advance(millis: 3_600_000)
            let late = try await unprotect("BANK-SIGN", try #require(samples["BANK-SIGN"]))
            #expect(late.code == "KEY_DISABLED", "the old version retired when the overlap ended")
            #expect(try await unprotect("BANK-SIGN", renewed).status == .ok)
            _ = try await client.call(
                .post, "/v1/transit/keys/enc/config", token: root, json: ["expires_at": .string(Timestamp.rfc3339(fixture.clock.nowMillis + 1))])
            fixture.clock.advance(millis: 1)
            #expect(try await client.call(.post, "/v1/protect/BANK-ENC", token: root, json: ["payload": 1]).code == "KEY_EXPIRED")
            #expect(try await unprotect("BANK-ENC", try #require(samples["BANK-ENC"])).code == "KEY_EXPIRED")

            let logs = fixture.logs.all
            #expect(!logs.contains("canary-payload-7") && !logs.contains("DE89370400440532013000"), "payloads never reach the logs")
            let entries = try await AuditHTTPTests.entries(client, root)
            let raw = String(decoding: JSONValue.array(entries).canonicalBytes(), as: UTF8.self)
            #expect(
                !raw.contains("canary-payload-7") && entries.contains { $0["operation"] == "unprotect" && $0["error_code"] == "SIGNATURE_INVALID" })
        }
    }

    @Test func aPolicyPointedAtANewKeyStillReadsOldPayloadsUntilTheOldKeyRetires() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            _ = try await client.call(.post, "/v1/transit/keys/old-sign", token: root, json: ["type": "ed25519"])
            _ = try await client.call(.post, "/v1/transit/keys/new-sign", token: root, json: ["type": "ml-dsa-65"])
            _ = try await client.call(.put, "/v1/policies/PAYROLL", token: root, json: ["mode": "sign", "signing_key": "old-sign"])
            let before = try #require(
                try await client.call(.post, "/v1/protect/PAYROLL", token: root, json: ["payload": ["run": 1]]).data["protected"]?.stringValue)
            let repointed = try await client.call(.put, "/v1/policies/PAYROLL", token: root, json: ["mode": "sign", "signing_key": "new-sign"])
            #expect(repointed.data["previous_signing_keys"] == ["old-sign"])
            let after = try #require(
                try await client.call(.post, "/v1/protect/PAYROLL", token: root, json: ["payload": ["run": 2]]).data["protected"]?.stringValue)
            #expect(
                try await client.call(.post, "/v1/unprotect/PAYROLL", token: root, json: ["protected": .string(before)]).data["payload"] == ["run": 1]
            )
            #expect(
                try await client.call(.post, "/v1/unprotect/PAYROLL", token: root, json: ["protected": .string(after)]).data["payload"] == ["run": 2])
            // Retiring the old key's version ends the transition for payloads signed with it.
            _ = try await client.call(.post, "/v1/transit/keys/old-sign/rotate", token: root)
            _ = try await client.call(.post, "/v1/transit/keys/old-sign/config", token: root, json: ["min_decryption_version": 2])
            #expect(try await client.call(.post, "/v1/unprotect/PAYROLL", token: root, json: ["protected": .string(before)]).code == "KEY_DISABLED")
            #expect(try await client.call(.post, "/v1/unprotect/PAYROLL", token: root, json: ["protected": .string(after)]).status == .ok)
        }
    }
}

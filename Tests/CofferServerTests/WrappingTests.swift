import CofferCore
import Foundation
import HTTPTypes
import Testing

@testable import CofferServer

/// Response wrapping: `X-Vault-Wrap-TTL` answers with wrap_info only; `sys/wrapping/unwrap` gives the
/// answer once, within its TTL, to its own tenant; lookup, rewrap and wrap; every wrap and unwrap audited.
@Suite struct WrappingTests {
    static func wrapToken(_ reply: Fixture.Client.Reply) throws -> String {
        guard let token = reply.body["wrap_info"]?["token"]?.stringValue else { throw CofferError(.internalError, "no wrap_info: \(reply.raw)") }
        return token
    }

    @Test func wrappedAnswersAreUnwrappedOnceByTheirOwnTenant() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let created = try await client.call(
                .post, "/v1/auth/token/create", token: root, json: ["policies": ["viewer"], "ttl": "1h"], headers: [("X-Vault-Wrap-TTL", "60")])
            let info = created.body["wrap_info"]
            #expect(info?["ttl"] == 60 && info?["creation_path"] == "auth/token/create" && info?["wrapped_accessor"]?.stringValue?.isEmpty == false)
            #expect(created.body["auth"] == .null && !created.raw.contains("cft_"), "\(created.raw)")
            let wrapToken = try Self.wrapToken(created)
            #expect(wrapToken.hasPrefix("cfw_"))
            #expect(
                try await client.call(.get, "/v1/secret/data/x", token: wrapToken).code == "UNAUTHENTICATED", "a wrapping token opens nothing else")

            let lookup = try await client.call(.post, "/v1/sys/wrapping/lookup", json: ["token": .string(wrapToken)])
            #expect(lookup.data["creation_ttl"] == 60, "lookup needs no other credential, as in Vault: \(lookup.raw)")
            #expect(
                try await client.call(.post, "/v1/sys/wrapping/unwrap", json: ["token": .string(wrapToken)]).code == "UNAUTHENTICATED",
                "unwrap with a body token needs the caller's own credential")
            let looked = try await client.call(.post, "/v1/sys/wrapping/lookup", token: wrapToken, json: [:])
            #expect(looked.data["creation_path"] == "auth/token/create" && looked.data["creation_ttl"] == 60, "\(looked.raw)")

            // Unwrap with the wrapping token as the credential: the token inside works; a second unwrap fails.
            let unwrapped = try await client.call(.post, "/v1/sys/wrapping/unwrap", token: wrapToken, json: [:])
            let inner = try #require(unwrapped.body["auth"]?["client_token"]?.stringValue, "\(unwrapped.raw)")
            #expect(try await client.call(.get, "/v1/auth/token/lookup-self", token: inner).data["policies"] == ["viewer"])
            let again = try await client.call(.post, "/v1/sys/wrapping/unwrap", token: wrapToken, json: [:])
            #expect(again.code == "INVALID_REQUEST" && again.body["errors"] == ["wrapping token is not valid or does not exist"])

            // A KV read, wrapped; the stored form is sealed; another tenant cannot unwrap it.
            try await client.call(.post, "/v1/secret/data/app", token: root, json: ["data": ["password": "hunter2-wrapped"]])
            let read = try await client.call(.get, "/v1/secret/data/app", token: root, headers: [("X-Vault-Wrap-TTL", "5m")])
            #expect(!read.raw.contains("hunter2-wrapped") && read.body["data"] == .null)
            let readToken = try Self.wrapToken(read)
            let rows = try await fixture.storage.database.query("SELECT sealed FROM wrapped_responses", [])
            #expect(try rows.allSatisfy { !String(decoding: try $0.blob("sealed"), as: UTF8.self).contains("hunter2") })
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "other"])
            let otherToken = try #require(other.body["auth"]?["client_token"]?.stringValue)
            #expect(
                try await client.call(.post, "/v1/sys/wrapping/unwrap", token: otherToken, json: ["token": .string(readToken)]).code
                    == "INVALID_REQUEST")
            let mine = try await client.call(.post, "/v1/sys/wrapping/unwrap", token: root, json: ["token": .string(readToken)])
            #expect(mine.data["data"]?["password"] == "hunter2-wrapped", "still there after the other tenant's try: \(mine.raw)")

            // Audited, without the tokens or the secret.
            let audit = try await client.call(.get, "/v1/audit/entries", token: root)
            guard case .array(let entries) = audit.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            let operations = entries.compactMap { $0["operation"]?.stringValue }
            #expect(operations.filter { $0 == "sys.wrapping.wrap" }.count == 2 && operations.filter { $0 == "sys.wrapping.unwrap" }.count >= 2)
            #expect(!audit.raw.contains(wrapToken) && !audit.raw.contains(readToken) && !audit.raw.contains("hunter2"))
        }
    }

    @Test func expiryRewrapWrapAndRefusals() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let wrapped = try await client.call(.post, "/v1/sys/wrapping/wrap", token: root, json: ["api_key": "abc", "n": 1])
            #expect(wrapped.body["wrap_info"]?["ttl"] == 300 && wrapped.body["wrap_info"]?["creation_path"] == "sys/wrapping/wrap")
            let first = try Self.wrapToken(wrapped)
            let rewrapped = try await client.call(.post, "/v1/sys/wrapping/rewrap", token: root, json: ["token": .string(first)])
            let second = try Self.wrapToken(rewrapped)
            #expect(second != first && rewrapped.body["wrap_info"]?["ttl"] == 300)
            #expect(
                try await client.call(.post, "/v1/sys/wrapping/unwrap", token: first, json: [:]).code == "INVALID_REQUEST", "rewrap spends the old")
            #expect(try await client.call(.post, "/v1/sys/wrapping/unwrap", token: second, json: [:]).data["api_key"] == "abc")

            let short = try Self.wrapToken(
                try await client.call(.post, "/v1/sys/wrapping/wrap", token: root, json: ["k": "v"], headers: [("X-Vault-Wrap-TTL", "60s")]))
            fixture.clock.advance(millis: 60_000)
            #expect(try await client.call(.post, "/v1/sys/wrapping/unwrap", token: short, json: [:]).code == "INVALID_REQUEST", "expired")
            #expect(try await fixture.runtime.wrapping.purgeExpired() == 1)

            // Writes cannot be wrapped: refused before anything is done. Bad TTLs are refused.
            let write = try await client.call(
                .post, "/v1/secret/data/nope", token: root, json: ["data": ["k": "v"]], headers: [("X-Vault-Wrap-TTL", "60s")])
            #expect(write.code == "INVALID_REQUEST" && write.raw.contains("X-Vault-Wrap-TTL"))
            #expect(try await client.call(.get, "/v1/secret/data/nope", token: root).code == "NOT_FOUND", "nothing was written")
            for ttl in ["0", "forever", "800h", "-5"] {
                let reply = try await client.call(.get, "/v1/secret/data/nope", token: root, headers: [("X-Vault-Wrap-TTL", ttl)])
                #expect(reply.code == "INVALID_REQUEST", "\(ttl): \(reply.raw)")
            }
            // Errors are not wrapped (nothing to protect), as in Vault.
            #expect(try await client.call(.get, "/v1/secret/data/nope", token: root, headers: [("X-Vault-Wrap-TTL", "60")]).code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/sys/wrapping/unwrap", token: root, json: ["token": "cfw_junk"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, "/v1/sys/wrapping/unwrap", token: root, json: ["token": "x", "extra": 1]).code == "INVALID_REQUEST")
        }
    }
}

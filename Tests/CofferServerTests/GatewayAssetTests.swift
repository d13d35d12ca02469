import CofferCore
import CofferServer
import Crypto
import Foundation
import HTTPTypes
import Testing

/// Public assets of gateway projects (APIKeyChain §7): digests a browser can pin, expiring URLs, and
/// content that stays sealed and bound to its place.
@Suite("HTTP: gateway public assets")
struct GatewayAssetTests {
    static let script = "export const greet = () => 'hello from coffer';\n"
    static let manage = "/v1/gateway/projects/weather/assets"
    static let serve = "/v1/gateway/root/weather/assets"

    /// The digests computed here, independently of Coffer's code.
    static func digests(_ text: String) -> (base64: String, hex: String) {
        let digest = Array(SHA256.hash(data: Array(text.utf8)))
        return (Data(digest).base64EncodedString(), digest.map { String(format: "%02x", $0) }.joined())
    }

    @Test func anUploadedScriptIsServedWithDigestsAPageCanPin() async throws {
        try await GatewayHTTPTests.withGateway { _, _, _, client, root, _ in
            let (base64, hex) = Self.digests(Self.script)
            let saved = try await client.call(.put, Self.manage + "/app.js", token: root, json: ["content": .string(Self.script)])
            #expect(saved.status == .ok, "\(saved.raw)")
            #expect(saved.data["integrity"]?.stringValue == "sha256-" + base64)
            #expect(saved.data["content_type"]?.stringValue == "text/javascript; charset=utf-8")
            let snippet = try #require(saved.data["snippet"]?.stringValue)
            #expect(snippet.hasPrefix("<script src=\"http://") && snippet.contains("/v1/gateway/root/weather/assets/app.js\""))
            #expect(snippet.hasSuffix(#" integrity="sha256-\#(base64)" crossorigin="anonymous"></script>"#))

            let fetched = try await client.call(.get, Self.serve + "/app.js")
            #expect(fetched.status == .ok && fetched.raw == Self.script)
            #expect(fetched.headers[HTTPField.Name("Content-Digest")!] == "sha-256=:\(base64):")
            #expect(fetched.headers[HTTPField.Name("Content-SHA256")!] == hex)
            #expect(fetched.headers[.eTag] == "\"sha256-\(hex)\"")
            #expect(fetched.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(fetched.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            #expect(fetched.headers[.accessControlAllowOrigin] == nil, "no Origin, no CORS headers")

            let head = try await client.call(.head, Self.serve + "/app.js")
            #expect(head.status == .ok && head.raw.isEmpty && head.headers[.contentLength] == String(Self.script.utf8.count))
            let unchanged = try await client.call(.get, Self.serve + "/app.js", headers: [("If-None-Match", "\"sha256-\(hex)\"")])
            #expect(unchanged.status == .notModified && unchanged.raw.isEmpty)

            // A cross-origin <script crossorigin> load needs CORS for SRI: listed origins get it, others nothing.
            let listed = try await client.call(.get, Self.serve + "/app.js", headers: [("Origin", GatewayHTTPTests.app)])
            #expect(listed.status == .ok && listed.headers[.accessControlAllowOrigin] == GatewayHTTPTests.app)
            let other = try await client.call(.get, Self.serve + "/app.js", headers: [("Origin", "https://evil.example")])
            #expect(other.status == .forbidden && other.code == "ORIGIN_NOT_ALLOWED" && other.headers[.accessControlAllowOrigin] == nil)
            #expect(!other.raw.contains("hello from coffer"))

            // A stylesheet gets a <link>, a JSON file none; the list shows all three.
            let css = try await client.call(.put, Self.manage + "/site.css", token: root, json: ["content": "body{color:red}"])
            #expect(css.data["snippet"]?.stringValue?.hasPrefix("<link rel=\"stylesheet\" href=") == true)
            let json = try await client.call(.put, Self.manage + "/config.json", token: root, json: ["content_base64": "eyJhIjoxfQ=="])
            #expect(json.status == .ok && json.data["snippet"] == nil && json.data["size"] == 7)
            #expect(try await client.call(.get, Self.serve + "/config.json").raw == #"{"a":1}"#)
            let list = try await client.call(.get, Self.manage, token: root)
            #expect(list.data["keys"] == ["app.js", "config.json", "site.css"])
        }
    }

    @Test func uploadsOutsideTheRulesAreRefusedWithExactCodes() async throws {
        try await GatewayHTTPTests.withGateway { _, _, _, client, root, _ in
            let big = String(repeating: "a", count: GatewayAsset.maximumBytes + 1)
            let cases: [(String, JSONValue, String)] = [
                ("/big.js", ["content": .string(big)], "PAYLOAD_TOO_LARGE"),
                ("/page.html", ["content": "<p>hi</p>"], "INVALID_REQUEST"),
                ("/x.js", ["content": "1", "content_type": "text/html"], "INVALID_REQUEST"),
                ("/image.svg", ["content": "<svg/>", "content_type": "image/svg+xml"], "INVALID_REQUEST"),
                ("/.hidden.js", ["content": "1"], "INVALID_REQUEST"),
                ("/x.js", ["content": "1", "content_base64": "MQ=="], "INVALID_REQUEST"),
                ("/x.js", ["content": "1", "public": true], "INVALID_REQUEST"),
                ("/x.js", ["content_base64": "not base64!"], "INVALID_REQUEST"),
                ("/x.js", ["content": ""], "INVALID_REQUEST"),
            ]
            for (path, body, code) in cases {
                let reply = try await client.call(.put, Self.manage + path, token: root, json: body)
                #expect(reply.code == code, "\(path) \(body)")
            }
            let noProject = try await client.call(.put, "/v1/gateway/projects/nothing/assets/x.js", token: root, json: ["content": "1"])
            #expect(noProject.code == "NOT_FOUND")
            #expect(try await client.call(.get, Self.manage, token: root).data["keys"] == [], "nothing refused was stored")

            // Viewers read descriptions; they cannot upload. Disabled projects serve nothing.
            try await client.call(.put, Self.manage + "/app.js", token: root, json: ["content": .string(Self.script)])
            let viewer = try await client.token(root, role: "viewer")
            #expect(try await client.call(.get, Self.manage + "/app.js", token: viewer).data["size"] == .int(Self.script.utf8.count))
            #expect(try await client.call(.put, Self.manage + "/b.js", token: viewer, json: ["content": "1"]).code == "PERMISSION_DENIED")
            let auditor = try await client.token(root, role: "auditor")
            #expect(try await client.call(.get, Self.manage, token: auditor).code == "PERMISSION_DENIED")
        }
    }

    @Test func assetsStayInTheirTenantAndProject() async throws {
        try await GatewayHTTPTests.withGateway { _, port, _, client, root, _ in
            try await client.call(.put, Self.manage + "/app.js", token: root, json: ["content": .string(Self.script)])
            let tenant = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "shop", "environment": "staging"])
            let shop = try #require(tenant.data["root_token"]?.stringValue ?? tenant.body["auth"]?["client_token"]?.stringValue)
            try await client.call(.put, "/v1/gateway/projects/weather", token: shop, json: GatewayHTTPTests.project(port: port))
            #expect(try await client.call(.get, "/v1/gateway/shop/weather/assets/app.js").code == "NOT_FOUND", "another tenant's project")
            #expect(try await client.call(.get, Self.manage + "/app.js", token: shop).code == "NOT_FOUND")
            #expect(try await client.call(.delete, Self.manage + "/app.js", token: shop).code == "NOT_FOUND")
            #expect(try await client.call(.get, Self.serve + "/app.js").status == .ok, "still there for its owner")
            #expect(try await client.call(.get, "/v1/gateway/nobody/weather/assets/app.js").code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "projects"]).code == "INVALID_REQUEST")

            // Disabling the project stops serving; deleting it deletes its assets.
            try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: GatewayHTTPTests.project(port: port, enabled: false))
            #expect(try await client.call(.get, Self.serve + "/app.js").code == "PROJECT_DISABLED")
            try await client.call(.delete, "/v1/gateway/projects/weather", token: root)
            try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: GatewayHTTPTests.project(port: port))
            #expect(try await client.call(.get, Self.serve + "/app.js").code == "NOT_FOUND")
        }
    }

    @Test func expiringURLsOpenOneAssetUntilTheyExpire() async throws {
        try await GatewayHTTPTests.withGateway { _, _, fixture, client, root, _ in
            try await client.call(.put, Self.manage + "/private.js", token: root, json: ["content": .string(Self.script), "require_token": true])
            try await client.call(.put, Self.manage + "/other.js", token: root, json: ["content": "2", "require_token": true])
            let bare = try await client.call(.get, Self.serve + "/private.js")
            #expect(bare.status == .forbidden && bare.code == "ASSET_TOKEN_INVALID" && !bare.raw.contains("hello"))

            let issued = try await client.call(.post, Self.manage + "/private.js/url", token: root, json: [:])
            let url = try #require(issued.data["url"]?.stringValue, "\(issued.raw)")
            let token = try #require(url.split(separator: "?token=").last.map(String.init))
            #expect(issued.data["expires_at"]?.stringValue == Timestamp.rfc3339(fixture.clock.nowMillis / 1000 * 1000 + 4 * 3_600_000))
            #expect(issued.data["snippet"]?.stringValue?.contains("?token=") == true)
            let opened = try await client.call(.get, Self.serve + "/private.js?token=" + token)
            #expect(opened.status == .ok && opened.raw == Self.script && opened.headers[.cacheControl] == "private, no-store")

            #expect(try await client.call(.get, Self.serve + "/other.js?token=" + token).code == "ASSET_TOKEN_INVALID", "another asset")
            let parts = token.split(separator: ".").map(String.init)
            let later = "\(Int64(parts[0])! + 3600).\(parts[1]).\(parts[2])"
            #expect(try await client.call(.get, Self.serve + "/private.js?token=" + later).code == "ASSET_TOKEN_INVALID", "extended expiry")
            var flipped = Array(parts[2])
            flipped[0] = flipped[0] == "A" ? "B" : "A"
            let forged = "\(parts[0]).\(parts[1]).\(String(flipped))"
            #expect(try await client.call(.get, Self.serve + "/private.js?token=" + forged).code == "ASSET_TOKEN_INVALID", "altered MAC")
            #expect(try await client.call(.get, Self.serve + "/private.js?token=junk").code == "ASSET_TOKEN_INVALID")
            #expect(try await client.call(.get, Self.serve + "/private.js?token=\(token)&x=1").code == "INVALID_REQUEST")

            fixture.clock.advance(millis: 4 * 3_600_000 + 1000)
            let expired = try await client.call(.get, Self.serve + "/private.js?token=" + token)
            #expect(expired.status == .forbidden && expired.code == "ASSET_TOKEN_EXPIRED")
            #expect(try await client.call(.post, Self.manage + "/private.js/url", token: root, json: ["ttl": "8d"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, Self.manage + "/private.js/url", token: root, json: ["tll": "1h"]).code == "INVALID_REQUEST")
            #expect(try await client.call(.post, Self.manage + "/missing.js/url", token: root, json: [:]).code == "NOT_FOUND")

            // Refusals are audited one by one, without the token.
            let audit = try await client.call(.get, "/v1/audit/entries?operation=gateway.asset.fetch", token: root)
            guard case .array(let entries) = audit.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            let codes = entries.compactMap { $0["error_code"]?.stringValue }
            #expect(codes.filter { $0 == "ASSET_TOKEN_INVALID" }.count == 5 && codes.contains("ASSET_TOKEN_EXPIRED"), "\(codes)")
            #expect(!audit.raw.contains(parts[2]))
        }
    }

    @Test func storedAssetsAreSealedBoundAndReencrypted() async throws {
        try await GatewayHTTPTests.withGateway { _, _, fixture, client, root, _ in
            try await client.call(.put, Self.manage + "/app.js", token: root, json: ["content": .string(Self.script)])
            try await client.call(.put, Self.manage + "/gated.js", token: root, json: ["content": .string(Self.script), "require_token": true])
            let rows = try await fixture.storage.database.query("SELECT sealed FROM gateway_assets WHERE name = 'app.js'", [])
            let sealed = try #require(try rows.first?.blob("sealed"))
            #expect(!String(decoding: sealed, as: UTF8.self).contains("hello from coffer"), "stored sealed, not in the clear")

            // Flipping the token requirement in the database breaks the AAD: refused, never served open.
            try await fixture.storage.database.query("UPDATE gateway_assets SET require_token = 0 WHERE name = 'gated.js'", [])
            #expect(try await client.call(.get, Self.serve + "/gated.js").code == "STORAGE_CORRUPT")
            try await fixture.storage.database.query("UPDATE gateway_assets SET require_token = 1 WHERE name = 'gated.js'", [])
            // Another asset's sealed content moved under this name does not open either.
            try await fixture.storage.database.query("UPDATE gateway_assets SET sealed = $1 WHERE name = 'gated.js'", [.blob(sealed)])
            let moved = try await client.call(.post, Self.manage + "/gated.js/url", token: root, json: ["ttl": "1m"])
            let url = try #require(moved.data["url"]?.stringValue)
            let token = try #require(url.split(separator: "?token=").last.map(String.init))
            #expect(try await client.call(.get, Self.serve + "/gated.js?token=" + token).code == "STORAGE_CORRUPT")
            try await client.call(.delete, Self.manage + "/gated.js", token: root)

            // Rotation and re-encryption carry assets onto the new data key; their content is unchanged.
            #expect(try await client.call(.post, "/v1/sys/keyring/rotate", token: root).data["active_version"] == 2)
            let progress = try await client.call(.post, "/v1/sys/keyring/reencrypt", token: root, json: [:])
            #expect(progress.data["assets_resealed"] == 1 && progress.data["remaining"] == 0, "\(progress.raw)")
            let versions = try await fixture.storage.database.query("SELECT key_version FROM gateway_assets", [])
            #expect(try versions.map { try $0.int("key_version") } == [2])
            #expect(try await client.call(.get, Self.serve + "/app.js").raw == Self.script)
        }
    }
}

import CofferCore
import CofferServer
import CofferTestSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// The gateway against a real upstream on loopback that records what it receives.
@Suite("HTTP: gateway projects and proxied calls")
struct GatewayHTTPTests {
    static let upstreamSecret = "upstream-api-key-7f3a9c"
    static let app = "https://app.example.com"

    static func project(port: Int, enabled: Bool = true, origins: [String] = [app]) -> JSONValue {
        [
            "enabled": .bool(enabled),
            "allowed_origins": .array(origins.map(JSONValue.string)),
            "providers": [
                "weatherapi": [
                    "base_url": .string("http://127.0.0.1:\(port)/v2"), "allow_internal": true, "read_timeout_ms": 2000,
                    "max_response_bytes": 4096,
                    "credential": ["placement": "header", "name": "X-Api-Key", "secret": "secret/gateway/weather#API_KEY"],
                ]
            ],
            "routes": [
                "forecast": [
                    "method": "GET", "path": "/forecast/{city}", "provider": "weatherapi",
                    "path_parameters": ["city": ["type": "string", "maxLength": 40]],
                    "query": [
                        "units": ["type": "string", "enum": ["metric", "imperial"]], "days": ["type": "integer", "minimum": 1, "maximum": 14],
                    ],
                    "request_headers": ["accept-language"], "response_headers": ["content-type", "x-ratelimit-remaining"],
                ],
                "order": [
                    "method": "POST", "path": "/orders", "provider": "weatherapi",
                    "body": [
                        "type": "object", "required": ["item"],
                        "properties": ["item": ["type": "string", "maxLength": 20], "quantity": ["type": "integer", "minimum": 1]],
                    ],
                ],
                "redirect": ["method": "GET", "path": "/redirect", "provider": "weatherapi", "response_headers": ["location"]],
                "big": ["method": "GET", "path": "/big", "provider": "weatherapi"],
                "chunked": [
                    "method": "GET", "path": "/chunked/{kilobytes}", "provider": "weatherapi",
                    "path_parameters": ["kilobytes": ["type": "string", "maxLength": 3]],
                ],
                "slow": ["method": "GET", "path": "/slow", "provider": "weatherapi"],
            ],
        ]
    }

    /// Stores the upstream credential and the project; returns the call path prefix.
    static func setUp(_ client: Fixture.Client, _ root: String, port: Int) async throws -> String {
        let secret = try await client.call(
            .post, "/v1/secret/data/gateway/weather", token: root, json: ["data": ["API_KEY": .string(upstreamSecret)]])
        #expect(secret.status == .ok)
        let saved = try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: project(port: port))
        #expect(saved.status == .ok, "\(saved.raw)")
        return "/v1/gateway/root/weather/call"
    }

    /// A fresh Coffer, the recording upstream, the credential in KV and the `weather` project; `body`
    /// gets them and the call path prefix.
    static func withGateway(
        _ body: @escaping @Sendable (TestUpstream, Int, Fixture, Fixture.Client, String, String) async throws -> Void
    ) async throws {
        let upstream = TestUpstream()
        try await upstream.run { port in
            let fixture = try await Fixture.make()
            try await fixture.test { client in
                let root = fixture.rootToken
                let base = try await Self.setUp(client, root, port: port)
                try await body(upstream, port, fixture, client, root, base)
            }
        }
    }

    @Test func theCredentialIsInjectedAndNothingUndeclaredReachesTheUpstream() async throws {
        try await Self.withGateway { upstream, port, fixture, client, root, base in
            let reply = try await client.call(
                .get, base + "/forecast/Z%C3%BCrich?units=metric&days=3", token: root,
                headers: [("Cookie", "session=browser"), ("Accept-Language", "de"), ("X-Other", "1"), ("Authorization", "Bearer client-own")])
            #expect(reply.status == .ok && reply.raw == #"{"temperature":21}"#, "\(reply.raw)")
            #expect(reply.headers[HTTPField.Name("X-Ratelimit-Remaining")!] == "9")
            #expect(reply.headers[.setCookie] == nil && reply.headers[HTTPField.Name("X-Upstream-Internal")!] == nil)
            let seen = try #require(upstream.last)
            #expect(seen.path == "/v2/forecast/Z%C3%BCrich" && seen.query == "units=metric&days=3")
            #expect(seen.headers["X-Api-Key"] == Self.upstreamSecret || seen.headers["x-api-key"] == Self.upstreamSecret, "\(seen.headers)")
            let names = Set(seen.headers.keys.map { $0.lowercased() })
            #expect(names.contains("accept-language"))
            for stripped in ["cookie", "x-vault-token", "x-other", "authorization"] {
                #expect(!names.contains(stripped), "\(stripped) was forwarded")
            }

            let calls = upstream.count
            let refused: [(String, String)] = [
                (base + "/forecast/Bern?units=metric&debug=1", "INVALID_REQUEST"),  // undeclared parameter
                (base + "/forecast/Bern?days=99", "INVALID_REQUEST"),  // out of range
                (base + "/forecast/Bern?days=two", "INVALID_REQUEST"),
                (base + "/forecast/Bern?units=kelvin", "INVALID_REQUEST"),
                (base + "/forecast/Bern?units=metric&units=imperial", "INVALID_REQUEST"),
                (base + "/forecast/" + String(repeating: "a", count: 41), "INVALID_REQUEST"),
                (base + "/forecast/..%2F..%2Fadmin", "ROUTE_NOT_FOUND"),  // traversal
                (base + "/forecast/%2E%2E", "ROUTE_NOT_FOUND"),
                (base + "/forecast/a%0D%0AX-Injected:%201", "ROUTE_NOT_FOUND"),  // CRLF
                (base + "/forecast/a%00b", "ROUTE_NOT_FOUND"),
                (base + "/forecast/Bern/extra", "ROUTE_NOT_FOUND"),
                (base + "/nothing", "ROUTE_NOT_FOUND"),
            ]
            let secretName = try await client.call(.get, base + "/forecast/Bern?sk_live_looks_like_a_secret=1", token: root)
            #expect(secretName.code == "INVALID_REQUEST" && !secretName.raw.contains("sk_live_looks"), "a client's parameter name is not echoed")
            for (uri, code) in refused {
                let answer = try await client.call(.get, uri, token: root)
                #expect(answer.code == code, "\(uri): \(answer.raw)")
            }
            let badBodies: [JSONValue] = [
                ["item": "x", "extra": 1], ["quantity": 2], ["item": .string(String(repeating: "y", count: 21))], ["item": 5],
            ]
            for body in badBodies {
                #expect(try await client.call(.post, base + "/orders", token: root, json: body).code == "INVALID_REQUEST", "\(body)")
            }
            #expect(try await client.call(.post, base + "/orders", token: root, rawBody: Array("{not json".utf8)).code == "MALFORMED_JSON")
            #expect(try await client.call(.get, base + "/big", token: root, rawBody: Array("{}".utf8)).code == "INVALID_REQUEST")
            #expect(upstream.count == calls, "a refused call reached the upstream")

            let order = try await client.call(.post, base + "/orders", token: root, json: ["item": "umbrella", "quantity": 2])
            #expect(order.status == .created && upstream.last?.body == #"{"item":"umbrella","quantity":2}"#)

            // The audit entry names the route and the target without its query, never the credential.
            let entries = try await client.call(.get, "/v1/audit/entries?operation=gateway.call", token: root)
            #expect(entries.raw.contains("127.0.0.1:\(port)/v2/forecast/Z%C3%BCrich") && entries.raw.contains("upstream_status"))
            #expect(!entries.raw.contains(Self.upstreamSecret) && !entries.raw.contains("units=metric"))
            #expect(!fixture.logs.all.contains(Self.upstreamSecret))
        }
    }

    /// Answers stream through: one without a length arrives whole when under the provider's limit, and
    /// is cut off (never passed on past the limit) when over it; one that declares too much is refused.
    @Test func answersStreamAndAreCutAtTheLimit() async throws {
        try await Self.withGateway { upstream, port, fixture, client, root, base in
            let small = try await client.call(.get, base + "/chunked/3", token: root)
            #expect(small.status == .ok && small.raw == String(repeating: "y", count: 3 * 1024))
            // The head (200) went out before the body passed the limit, so the answer is cut, not turned into a 502.
            do {
                let cut = try await client.call(.get, base + "/chunked/64", token: root)
                #expect(cut.status == .ok && cut.raw.utf8.count <= 4096, "\(cut.status) with \(cut.raw.utf8.count) bytes")
            } catch {
                // The connection was closed mid-answer: what a streaming proxy must do.
            }
            #expect(try await client.call(.get, base + "/big", token: root).code == "UPSTREAM_RESPONSE_TOO_LARGE", "declared too large")
            let entries = try await client.call(.get, "/v1/audit/entries?operation=gateway.call", token: root)
            #expect(entries.raw.contains(#""response_bytes":"streamed""#), "\(entries.raw)")
            #expect(try await client.call(.get, base + "/forecast/Bern", token: root).status == .ok, "the gateway still answers")
        }
    }

    /// Every configuration change is named in the project write's audit entry, one by one.
    @Test func eachConfigurationChangeIsNamedInTheAuditEntry() async throws {
        try await Self.withGateway { _, port, _, client, root, _ in
            var document = try #require(Self.project(port: port).objectValue)
            document["allowed_origins"] = ["https://app.example.com", "https://admin.example.com"]
            var routes = try #require(document["routes"]?.objectValue)
            routes["today"] = ["method": "GET", "path": "/today", "provider": "weatherapi"]
            routes["big"] = nil
            routes["slow"] = ["method": "GET", "path": "/slower", "provider": "weatherapi"]
            document["routes"] = .object(routes)
            #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document)).status == .ok)
            let entries = try await client.call(.get, "/v1/audit/entries?operation=gateway.project.write", token: root)
            guard case .array(let list) = entries.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries") }
            #expect(list.first?["details"]?["changes"] == "created")
            #expect(list.last?["details"]?["changes"] == "allowed_origins routes-big routes~slow routes+today", "\(entries.raw)")
        }
    }

    @Test func corsAllowsListedOriginsOnlyAndPreflightsSayTheSameForEveryRefusal() async throws {
        try await Self.withGateway { upstream, port, fixture, client, root, base in
            let allowed = try await client.call(.get, base + "/forecast/Bern", token: root, headers: [("Origin", Self.app)])
            #expect(allowed.status == .ok && allowed.headers[.accessControlAllowOrigin] == Self.app)
            #expect(allowed.headers[.vary] == "Origin" && allowed.headers[.accessControlAllowCredentials] == nil)
            #expect(allowed.headers[.accessControlExposeHeaders] == "x-ratelimit-remaining")
            // An error for an allowed origin carries the CORS headers too, so the page can read it.
            let invalid = try await client.call(.get, base + "/forecast/Bern?days=0", token: root, headers: [("Origin", Self.app)])
            #expect(invalid.code == "INVALID_REQUEST" && invalid.headers[.accessControlAllowOrigin] == Self.app)

            let calls = upstream.count
            for origin in ["https://evil.example.com", "https://app.example.com.evil.net", "http://app.example.com", "null"] {
                let refused = try await client.call(.get, base + "/forecast/Bern", token: root, headers: [("Origin", origin)])
                #expect(refused.status == .forbidden && refused.code == "ORIGIN_NOT_ALLOWED", "\(origin)")
                #expect(refused.headers[.accessControlAllowOrigin] == nil)
            }
            #expect(upstream.count == calls)

            let preflight = try await client.call(
                .options, base + "/forecast/Bern", headers: [("Origin", Self.app), ("Access-Control-Request-Method", "GET")])
            #expect(preflight.status == .noContent && preflight.headers[.accessControlAllowOrigin] == Self.app)
            #expect(preflight.headers[.accessControlAllowMethods] == "GET")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("accept-language") == true)
            let refusals: [(String, [(String, String)])] = [
                (base + "/forecast/Bern", [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "GET")]),
                (base + "/forecast/Bern", [("Origin", Self.app), ("Access-Control-Request-Method", "DELETE")]),
                (base + "/nothing", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")]),
                ("/v1/gateway/no-such-tenant/weather/call/forecast/Bern", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")]),
                ("/v1/gateway/root/no-such-project/call/forecast/Bern", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")]),
            ]
            var bodies: Set<String> = []
            for (uri, headers) in refusals {
                let refused = try await client.call(.options, uri, headers: headers)
                #expect(
                    refused.status == .forbidden && refused.code == "ORIGIN_NOT_ALLOWED" && refused.headers[.accessControlAllowOrigin] == nil,
                    "\(uri)")
                bodies.insert(refused.body["errors"].map { "\($0)" } ?? "")
            }
            #expect(bodies.count == 1, "every preflight refusal reads the same")
            let preflights = try await client.call(.get, "/v1/audit/entries?operation=gateway.preflight", token: root)
            #expect(preflights.raw.contains("ORIGIN_NOT_ALLOWED"), "a refused preflight is recorded: \(preflights.raw.prefix(400))")

            // '*' is refused for a production tenant and, elsewhere, answered as '*' without credentials.
            let tenant = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "shop", "environment": "production"])
            let shopAdmin = try #require(
                tenant.data["root_token"]?.stringValue ?? tenant.body["auth"]?["client_token"]?.stringValue, "\(tenant.raw)")
            let wildcard = try await client.call(
                .put, "/v1/gateway/projects/weather", token: shopAdmin, json: Self.project(port: port, origins: ["*"]))
            #expect(wildcard.code == "INVALID_REQUEST" && wildcard.raw.contains("production"))
            #expect(
                try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: Self.project(port: port, origins: ["*"])).status
                    == .ok)
            let any = try await client.call(.get, base + "/forecast/Bern", token: root, headers: [("Origin", "https://elsewhere.example")])
            #expect(any.status == .ok && any.headers[.accessControlAllowOrigin] == "*" && any.headers[.accessControlAllowCredentials] == nil)
        }
    }

    @Test func upstreamAddressesAreCheckedAndRedirectsNeverFollowed() async throws {
        try await Self.withGateway { upstream, port, fixture, client, root, base in
            // http without allow_internal is refused when saved.
            var plain = Self.project(port: port)
            plain = Self.replacing(plain, provider: ["base_url": .string("http://127.0.0.1:\(port)/v2"), "allow_internal": false])
            #expect(try await client.call(.put, "/v1/gateway/projects/p1", token: root, json: plain).code == "INVALID_REQUEST")
            // Non-public targets are refused at call time, by address or by a name that resolves to one.
            for target in [
                "https://127.0.0.1:\(port)/v2", "https://localhost:\(port)/v2", "https://169.254.169.254/v2", "https://10.0.0.1/v2",
                "https://[::1]:\(port)/v2", "https://[::ffff:127.0.0.1]/v2", "https://0.0.0.0/v2",
            ] {
                let document = Self.replacing(Self.project(port: port), provider: ["base_url": .string(target), "allow_internal": false])
                #expect(try await client.call(.put, "/v1/gateway/projects/ssrf", token: root, json: document).status == .ok, "\(target)")
                let calls = upstream.count
                let refused = try await client.call(.get, "/v1/gateway/root/ssrf/call/forecast/Bern", token: root)
                #expect(refused.status == .badGateway && refused.code == "UPSTREAM_REFUSED", "\(target): \(refused.raw)")
                #expect(upstream.count == calls)
            }
            // A redirect to the metadata service is passed back, never followed.
            let calls = upstream.count
            let redirect = try await client.call(.get, base + "/redirect", token: root)
            #expect(redirect.status == .found && upstream.count == calls + 1)
            #expect(try await client.call(.get, base + "/big", token: root).code == "UPSTREAM_RESPONSE_TOO_LARGE")
            #expect(try await client.call(.get, base + "/slow", token: root).code == "UPSTREAM_TIMEOUT")
            let unreachable = Self.replacing(Self.project(port: port), provider: ["base_url": "http://127.0.0.1:1/v2"])
            #expect(try await client.call(.put, "/v1/gateway/projects/down", token: root, json: unreachable).status == .ok)
            #expect(try await client.call(.get, "/v1/gateway/root/down/call/forecast/Bern", token: root).code == "UPSTREAM_UNAVAILABLE")
        }
    }

    @Test func onlyCallersWithTheScopeOrRoleReachTheirOwnTenantsProject() async throws {
        try await Self.withGateway { upstream, port, fixture, client, root, base in
            let viewer = try await client.token(root, role: "viewer")
            #expect(try await client.call(.get, base + "/forecast/Bern", token: viewer).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/gateway/projects/weather", token: viewer).status == .ok)
            #expect(
                try await client.call(.put, "/v1/gateway/projects/weather", token: viewer, json: Self.project(port: port)).code
                    == "PERMISSION_DENIED")
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.get, base + "/forecast/Bern", token: modifier).status == .ok)
            #expect(try await client.call(.get, base + "/forecast/Bern").code == "UNAUTHENTICATED")

            func key(_ scope: String) async throws -> String {
                let created = try await client.call(.post, "/v1/keys", token: root, json: ["name": .string(scope), "scopes": [.string(scope)]])
                return try #require(created.data["key"]?.stringValue, "\(created.raw)")
            }
            let routeKey = try await key("proxy:call:weather/forecast")
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: routeKey).status == .ok)
            #expect(try await client.call(.post, base + "/orders", bearer: routeKey, json: ["item": "x"]).code == "PERMISSION_DENIED")
            let projectKey = try await key("proxy:call:weather")
            #expect(try await client.call(.post, base + "/orders", bearer: projectKey, json: ["item": "x"]).status == .created)
            let otherKey = try await key("proxy:call:other")
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: otherKey).code == "PERMISSION_DENIED")

            // Another tenant's credential, and a project of another tenant, are both refused.
            let tenant = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "shop", "environment": "staging"])
            let shopAdmin = try #require(tenant.data["root_token"]?.stringValue ?? tenant.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, base + "/forecast/Bern", token: shopAdmin).code == "TENANT_MISMATCH")
            #expect(try await client.call(.get, "/v1/gateway/shop/weather/call/forecast/Bern", token: shopAdmin).code == "ROUTE_NOT_FOUND")
            #expect(try await client.call(.get, "/v1/gateway/projects/weather", token: shopAdmin).code == "NOT_FOUND")

            // Disabled: nothing is proxied.
            #expect(
                try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: Self.project(port: port, enabled: false)).status
                    == .ok)
            #expect(try await client.call(.get, base + "/forecast/Bern", token: root).code == "PROJECT_DISABLED")
            // A credential that cannot be read is refused without naming its value.
            #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: Self.project(port: port)).status == .ok)
            #expect(try await client.call(.delete, "/v1/secret/metadata/gateway/weather", token: root).status == .noContent)
            let missing = try await client.call(.get, base + "/forecast/Bern", token: root)
            #expect(missing.code == "UPSTREAM_REFUSED" && missing.raw.contains("secret/gateway/weather#API_KEY"))
        }
    }

    @Test func projectDocumentsAreCheckedWhenSaved() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let good = Self.project(port: 8080)
            let cases: [(JSONValue, String)] = [
                (Self.merging(good, ["unknown": 1]), "unknown field 'unknown'"),
                (Self.merging(good, ["allowed_origins": ["https://app.example.com/path"]]), "exact origins"),
                (Self.merging(good, ["routes": [:], "enabled": true]), "without routes"),
                (Self.merging(good, ["routes": ["a": ["method": "GET", "path": "/x/{id}", "provider": "nope"]]]), "names no provider"),
                (
                    Self.merging(
                        good,
                        [
                            "routes": [
                                "a": [
                                    "method": "GET", "path": "/x/{id}", "provider": "weatherapi",
                                    "query": ["q": ["type": "string", "pattern": ".*"]],
                                ]
                            ]
                        ]), "unknown field 'routes.a.query.q.pattern'"
                ),
                (
                    Self.merging(
                        good,
                        [
                            "routes": [
                                "a": ["method": "GET", "path": "/x/{id}", "provider": "weatherapi"],
                                "b": ["method": "GET", "path": "/x/y", "provider": "weatherapi"],
                            ]
                        ]), "match the same requests"
                ),
                (Self.merging(good, ["routes": ["a": ["method": "GET", "path": "/x/../y", "provider": "weatherapi"]]]), "route path segments"),
                (
                    Self.merging(good, ["routes": ["a": ["method": "GET", "path": "/x", "provider": "weatherapi", "request_headers": ["Cookie"]]]]),
                    "never passed through"
                ),
                (Self.merging(good, ["routes": ["a": ["method": "TRACE", "path": "/x", "provider": "weatherapi"]]]), "must be GET"),
                (Self.replacing(good, provider: ["base_url": "https://user:pw@api.example.com"]), "without user"),
                (Self.replacing(good, provider: ["credential": ["placement": "header", "name": "X-Key", "secret": "no-field"]]), "mount/path#field"),
            ]
            for (document, message) in cases {
                let reply = try await client.call(.put, "/v1/gateway/projects/p", token: root, json: document)
                #expect(reply.code == "INVALID_REQUEST" && reply.raw.contains(message), "\(message): \(reply.raw)")
            }
            #expect(try await client.call(.get, "/v1/gateway/projects/p", token: root).code == "NOT_FOUND")
            let saved = try await client.call(.put, "/v1/gateway/projects/p", token: root, json: good)
            let read = try await client.call(.get, "/v1/gateway/projects/p", token: root)
            #expect(read.data == saved.data && read.data["routes"]?["forecast"]?["path_parameters"]?["city"]?["maxLength"] == 40)
            #expect(try await client.call(.get, "/v1/gateway/projects", token: root).data["keys"] == ["p"])
            #expect(try await client.call(.delete, "/v1/gateway/projects/p", token: root).status == .noContent)
            #expect(try await client.call(.delete, "/v1/gateway/projects/p", token: root).code == "NOT_FOUND")
        }
    }

    static func merging(_ document: JSONValue, _ changes: [String: JSONValue]) -> JSONValue {
        guard var fields = document.objectValue else { return document }
        for (key, value) in changes { fields[key] = value }
        return .object(fields)
    }

    static func replacing(_ document: JSONValue, provider changes: [String: JSONValue]) -> JSONValue {
        guard var fields = document.objectValue, var providers = fields["providers"]?.objectValue, var provider = providers["weatherapi"]?.objectValue
        else { return document }
        for (key, value) in changes { provider[key] = value }
        providers["weatherapi"] = .object(provider)
        fields["providers"] = .object(providers)
        return .object(fields)
    }
}

/// Signed requests from independent implementations (PyPI http-message-signatures and
/// requests-http-signature; `scripts/test` installs them), through a real socket.
@Suite("HTTP: gateway signed requests, interop")
struct GatewaySignatureInteropTests {
    static let hmacSecret = "client-shared-secret-for-interop"

    @Test func pythonSignersAreAcceptedAndEveryAlterationRefused() async throws {
        let upstream = TestUpstream()
        let edKey = Curve25519.Signing.PrivateKey()
        try await upstream.run { port in
            let fixture = try await Fixture.make()
            // The Python signers use the real clock.
            fixture.clock.advance(millis: Int64(Date().timeIntervalSince1970 * 1000) - fixture.clock.nowMillis)
            try await fixture.testLive { client in
                let root = fixture.rootToken
                _ = try await GatewayHTTPTests.setUp(client, root, port: port)
                #expect(
                    try await client.call(
                        .post, "/v1/secret/data/gateway/clients", token: root, json: ["data": ["BACKEND": .string(Self.hmacSecret)]]
                    ).status == .ok)
                var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
                document["clients"] = [
                    "backend": ["key_id": "backend-1", "algorithm": "hmac-sha256", "secret": "secret/gateway/clients#BACKEND"],
                    "edge": [
                        "key_id": "edge-1", "algorithm": "ed25519",
                        "public_key": .string(Data(edKey.publicKey.rawRepresentation).base64EncodedString()), "routes": ["order"],
                    ],
                ]
                let saved = try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document))
                #expect(saved.status == .ok, "\(saved.raw)")
                let coffer = try #require(client.client.port)
                let result = try await CofferBinaryless.python(
                    "gateway_signatures.py",
                    [
                        "COFFER_CALL": "http://127.0.0.1:\(coffer)/v1/gateway/root/weather/call", "HMAC_SECRET": Self.hmacSecret,
                        "ED25519_PRIVATE": Data(edKey.rawRepresentation).base64EncodedString(),
                    ])
                #expect(result.status == 0, "\(result.stderr)")
                let lines = Dictionary(
                    result.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
                        let parts = line.split(separator: " ", maxSplits: 1)
                        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                    }, uniquingKeysWith: { $1 })
                let expected: [String: String] = [
                    "hmac_ok": "201 -", "replay": "401 SIGNATURE_REPLAYED", "tamper_method": "401 REQUEST_SIGNATURE_INVALID",
                    "tamper_path": "401 REQUEST_SIGNATURE_INVALID", "tamper_query": "401 REQUEST_SIGNATURE_INVALID",
                    "tamper_body": "400 CONTENT_DIGEST_MISMATCH", "old_timestamp": "401 SIGNATURE_EXPIRED",
                    "unknown_key": "401 REQUEST_SIGNATURE_INVALID", "ed25519_ok": "201 -", "ed25519_other_route": "403 PERMISSION_DENIED",
                    "requests_http_signature_ok": "201 -",
                    "simple_ok": "200 -", "simple_replay": "401 SIGNATURE_REPLAYED",
                ]
                for (name, outcome) in expected { #expect(lines[name] == outcome, "\(name): \(lines[name] ?? "missing")\n\(result.stderr)") }
                #expect(!fixture.logs.all.contains(Self.hmacSecret))
                // Signed calls are audited under the client's name.
                let entries = try await client.call(.get, "/v1/audit/entries?operation=gateway.call", token: root)
                #expect(entries.raw.contains("gateway_client") && entries.raw.contains("weather/backend"))
            }
        }
    }
}

/// Runs the interop scripts under Tests/Interop with the python3 on PATH.
enum CofferBinaryless {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func python(_ script: String, _ environment: [String: String]) async throws -> Result {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        return try await run(["python3", root + "/Tests/Interop/" + script], environment)
    }

    /// A scratch folder with `openssl`-made P-256 CAs (`(file, subject CN)`) and certificates each signed
    /// by one of them (`(file, CA file, subject, extensions)`), all valid for `days` from now.
    static func certificates(
        _ label: String, cas: [(String, String)], leaves: [(String, String, String, String)], days: Int = 1
    ) async throws -> String {
        let directory = NSTemporaryDirectory() + "coffer-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        for (file, subject) in cas {
            try await openssl(
                ["req", "-x509"] + ec + ["-days", String(days + 1), "-subj", "/CN=\(subject)", "-keyout", "\(file).key", "-out", "\(file).crt"],
                in: directory)
        }
        for (name, ca, subject, extensions) in leaves {
            try (extensions + "\n").write(toFile: directory + "/\(name).ext", atomically: true, encoding: .utf8)
            try await openssl(["req"] + ec + ["-subj", subject, "-keyout", "\(name).key", "-out", "\(name).csr"], in: directory)
            try await openssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).crt", "-CAkey", "\(ca).key", "-CAcreateserial", "-days", String(days),
                    "-extfile", "\(name).ext", "-out", "\(name).crt",
                ], in: directory)
        }
        return directory
    }

    /// Runs `openssl` in `directory`; a failure is recorded with its stderr.
    static func openssl(_ arguments: [String], in directory: String) async throws {
        let result = try await run(["openssl"] + arguments, in: directory)
        #expect(result.status == 0, "openssl \(arguments.first ?? ""): \(result.stderr)")
    }

    /// Runs a program found on PATH.
    static func run(_ arguments: [String], _ environment: [String: String] = [:], in directory: String? = nil) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.runSerially()
        // Read on a thread of its own, never blocking the cooperative pool the live servers run on.
        let (o, e) = await withCheckedContinuation { (continuation: CheckedContinuation<(Data, Data), Never>) in
            Thread {
                let o = out.fileHandleForReading.readDataToEndOfFile()
                let e = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (o, e))
            }.start()
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Publishable `pk_` keys: gateway calls from an allowed origin only.
@Suite("HTTP: gateway publishable keys")
struct GatewayPublishableKeyTests {
    @Test func publishableKeysWorkOnlyFromAllowedOriginsOnGatewayRoutes() async throws {
        try await GatewayHTTPTests.withGateway { upstream, _, _, client, root, base in
            let created = try await client.call(
                .post, "/v1/keys", token: root, json: ["name": "web", "publishable": true, "scopes": ["proxy:call:weather/forecast"]])
            let key = try #require(created.data["key"]?.stringValue, "\(created.raw)")
            #expect(key.hasPrefix("pk_test_") && created.data["kind"] == "publishable_test")
            let app = [("Origin", GatewayHTTPTests.app)]
            let allowed = try await client.call(.get, base + "/forecast/Bern", bearer: key, headers: app)
            #expect(allowed.status == .ok && allowed.headers[.accessControlAllowOrigin] == GatewayHTTPTests.app, "\(allowed.raw)")
            let calls = upstream.count
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key).code == "ORIGIN_NOT_ALLOWED", "no Origin: not a browser")
            #expect(
                try await client.call(.get, base + "/forecast/Bern", bearer: key, headers: [("Origin", "https://evil.example.com")]).code
                    == "ORIGIN_NOT_ALLOWED")
            #expect(try await client.call(.post, base + "/orders", bearer: key, json: ["item": "x"], headers: app).code == "PERMISSION_DENIED")
            #expect(upstream.count == calls)
            // Nowhere else: not on Coffer's own API, not even for what its scope would name.
            #expect(try await client.call(.get, "/v1/secret/data/gateway/weather", bearer: key).code == "UNAUTHENTICATED")
            #expect(try await client.call(.get, "/v1/gateway/projects/weather", bearer: key, headers: app).code == "UNAUTHENTICATED")
            // Only proxy:call scopes, never admin.
            let wide = try await client.call(.post, "/v1/keys", token: root, json: ["name": "w", "publishable": true, "scopes": ["kv:read:*"]])
            #expect(wide.code == "INVALID_REQUEST" && wide.raw.contains("proxy:call"))
            let both = try await client.call(.post, "/v1/keys", token: root, json: ["name": "b", "publishable": true, "admin": true])
            #expect(both.code == "INVALID_REQUEST")
            // Revoked: refused at once.
            let id = try #require(created.data["id"]?.stringValue)
            #expect(try await client.call(.post, "/v1/keys/\(id)/revoke", token: root, json: ["reason": "test"]).status == .ok)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key, headers: app).code == "UNAUTHENTICATED")
        }
    }
}

/// A project's managed publishable key (APIKeyChain §6.4): issued by Coffer, rotated every 24-72 h with
/// an overlap, replaced at once when it misbehaves, revoked with its project.
@Suite("HTTP: gateway managed publishable keys")
struct GatewayManagedKeyTests {
    @Test func theKeyRotatesOnScheduleWithAnOverlapAndAtOnceOnAnomaly() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            let keyPath = "/v1/gateway/projects/weather/publishable-key"
            #expect(try await client.call(.get, keyPath, token: root).code == "NOT_FOUND", "not managed until configured")
            var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
            document["publishable_key"] = ["rotate_hours": 24, "overlap_minutes": 30]
            document["anomaly"] = ["max_origin_refusals": 2]
            #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document)).status == .ok)
            for bad in [["rotate_hours": 12], ["rotate_hours": 96], ["rotate_hours": 24, "overlap_minutes": 2000], ["overlap_minutes": 10]]
                as [JSONValue]
            {
                document["publishable_key"] = bad
                #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document)).code == "INVALID_REQUEST")
            }

            let viewer = try await client.token(root, role: "viewer")
            let first = try await client.call(.get, keyPath, token: viewer)
            let key1 = try #require(first.data["key"]?.stringValue, "\(first.raw)")
            #expect(key1.hasPrefix("pk_test_"))
            #expect(first.data["rotates_at"]?.stringValue == Timestamp.rfc3339(fixture.clock.nowMillis + 24 * 3_600_000))
            #expect(try await client.call(.get, keyPath, token: root).data["key"]?.stringValue == key1, "the same key until it is due")
            let auditor = try await client.token(root, role: "auditor")
            #expect(try await client.call(.get, keyPath, token: auditor).code == "PERMISSION_DENIED")
            let stored = try await fixture.storage.database.query("SELECT sealed FROM gateway_managed_keys", [])
            let sealedText = String(decoding: try #require(stored.first).blob("sealed"), as: UTF8.self)
            #expect(!sealedText.contains(key1), "sealed, not in the clear")

            let app = [("Origin", GatewayHTTPTests.app)]
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key1, headers: app).status == .ok)
            // Due: the next read issues a new key; the old one works for the overlap, then not.
            fixture.clock.advance(millis: 24 * 3_600_000)
            let key2 = try #require(try await client.call(.get, keyPath, token: root).data["key"]?.stringValue)
            #expect(key2 != key1)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key1, headers: app).status == .ok, "within the overlap")
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key2, headers: app).status == .ok)
            fixture.clock.advance(millis: 31 * 60_000)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key1, headers: app).code == "UNAUTHENTICATED", "overlap over")

            // Suspended for anomalous behaviour: replaced at once, no overlap.
            for _ in 0..<2 {
                _ = try await client.call(.get, base + "/forecast/Bern", bearer: key2, headers: [("Origin", "https://evil.example.com")])
            }
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key2, headers: app).code == "UNAUTHENTICATED", "revoked at once")
            let key3 = try #require(try await client.call(.get, keyPath, token: root).data["key"]?.stringValue)
            #expect(key3 != key2)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key3, headers: app).status == .ok)
            let detected = try await client.call(.get, "/v1/audit/entries?operation=anomaly.detected", token: root)
            #expect(detected.raw.contains("managed_key_replaced_by"), "\(detected.raw)")

            // An admin rotates by hand (optionally with an overlap); deleting the project revokes the key.
            let rotated = try await client.call(.post, keyPath + "/rotate", token: root, json: ["overlap_minutes": 5])
            let key4 = try #require(rotated.data["key"]?.stringValue)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key3, headers: app).status == .ok)
            #expect(try await client.call(.post, keyPath + "/rotate", token: viewer, json: [:]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, keyPath + "/rotate", token: root, json: ["overlap": 5]).code == "INVALID_REQUEST")
            try await client.call(.delete, "/v1/gateway/projects/weather", token: root)
            try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: GatewayHTTPTests.project(port: port))
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key4, headers: app).code == "UNAUTHENTICATED")
            #expect(upstream.count > 0)
        }
    }
}

/// Behaviour-based suspension under the fixture's manual clock.
@Suite("HTTP: gateway anomaly suspension")
struct GatewayAnomalyTests {
    @Test func aClientThatKeepsFailingIsSuspendedUntilItEndsOrAnAdminLiftsIt() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
            document["anomaly"] = ["window_seconds": 60, "max_failures": 3, "max_origin_refusals": 2, "suspend_seconds": 900]
            #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document)).status == .ok)
            func key(_ name: String) async throws -> (String, String) {
                let created = try await client.call(.post, "/v1/keys", token: root, json: ["name": .string(name), "scopes": ["proxy:call:weather"]])
                return (try #require(created.data["key"]?.stringValue), try #require(created.data["id"]?.stringValue))
            }
            let (noisy, noisyID) = try await key("noisy")
            let (quiet, _) = try await key("quiet")
            // Two refusals, then a minute passes: the window starts again.
            for _ in 0..<2 { #expect(try await client.call(.get, base + "/forecast/Bern?debug=1", bearer: noisy).code == "INVALID_REQUEST") }
            fixture.clock.advance(millis: 61_000)
            for _ in 0..<2 { #expect(try await client.call(.get, base + "/forecast/Bern?debug=1", bearer: noisy).code == "INVALID_REQUEST") }
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: noisy).status == .ok)
            // The third refusal within the window suspends it; valid calls are refused from then on.
            #expect(try await client.call(.get, base + "/nothing", bearer: noisy).code == "ROUTE_NOT_FOUND")
            let calls = upstream.count
            let suspended = try await client.call(.get, base + "/forecast/Bern", bearer: noisy)
            #expect(suspended.status == .forbidden && suspended.code == "CLIENT_SUSPENDED")
            #expect(upstream.count == calls)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: quiet).status == .ok, "another client is not affected")
            let listed = try await client.call(.get, "/v1/gateway/projects/weather/suspensions", token: root)
            #expect(listed.raw.contains("\"client\":\"\(noisyID)\""), "\(listed.raw)")
            let detected = try await client.call(.get, "/v1/audit/entries?operation=anomaly.detected", token: root)
            #expect(detected.raw.contains("3 refused calls within 60 s") && detected.raw.contains("weather/\(noisyID)"), "\(detected.raw)")
            // It ends by itself after suspend_seconds…
            fixture.clock.advance(millis: 901_000)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: noisy).status == .ok)
            // …or when an admin lifts it.
            for _ in 0..<2 {
                _ = try await client.call(.get, base + "/forecast/Bern", bearer: noisy, headers: [("Origin", "https://evil.example.com")])
            }
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: noisy).code == "CLIENT_SUSPENDED", "origin refusals count too")
            let viewer = try await client.token(root, role: "viewer")
            #expect(try await client.call(.delete, "/v1/gateway/projects/weather/suspensions/\(noisyID)", token: viewer).code == "PERMISSION_DENIED")
            #expect(try await client.call(.delete, "/v1/gateway/projects/weather/suspensions/\(noisyID)", token: root).status == .noContent)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: noisy).status == .ok)
            #expect(try await client.call(.delete, "/v1/gateway/projects/weather/suspensions/\(noisyID)", token: root).code == "NOT_FOUND")
        }
    }

    /// With `revoke_key`, the suspension also revokes the key that misbehaved: lifting the suspension
    /// does not bring it back, and both are audited one by one.
    @Test func aSuspensionCanRevokeTheKeyAtOnce() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
            document["anomaly"] = ["max_failures": 2, "revoke_key": true]
            #expect(try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document)).status == .ok)
            let created = try await client.call(.post, "/v1/keys", token: root, json: ["name": "leaky", "scopes": ["proxy:call:weather"]])
            let key = try #require(created.data["key"]?.stringValue)
            let id = try #require(created.data["id"]?.stringValue)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key).status == .ok)
            for _ in 0..<2 { #expect(try await client.call(.get, base + "/forecast/Bern?x=1", bearer: key).code == "INVALID_REQUEST") }
            let record = try await client.call(.get, "/v1/keys/\(id)", token: root)
            #expect(record.data["revoked"] == true && record.data["revoked_by"] == "coffer anomaly detection", "\(record.raw)")
            #expect(try await client.call(.delete, "/v1/gateway/projects/weather/suspensions/\(id)", token: root).status == .noContent)
            #expect(try await client.call(.get, base + "/forecast/Bern", bearer: key).code == "UNAUTHENTICATED", "revoked, not only suspended")
            let revocations = try await client.call(.get, "/v1/audit/entries?operation=keys.revoke", token: root)
            #expect(revocations.raw.contains(id) && revocations.raw.contains("anomaly"), "\(revocations.raw)")
            let detected = try await client.call(.get, "/v1/audit/entries?operation=anomaly.detected", token: root)
            #expect(detected.raw.contains("\"key_revoked\":\"\(id)\""), "\(detected.raw)")
        }
    }

    /// Signing clients carry their own network allow-list, rate limit and quota.
    @Test func signingClientsHaveTheirOwnLimits() async throws {
        try await GatewayHTTPTests.withGateway { upstream, port, fixture, client, root, base in
            let secret = "signing-client-secret-0123456789"
            try await client.call(.post, "/v1/secret/data/gateway/clients", token: root, json: ["data": ["BACKEND": .string(secret)]])
            var document = try #require(GatewayHTTPTests.project(port: port).objectValue)
            document["clients"] = [
                "limited": [
                    "key_id": "limited-1", "algorithm": "hmac-sha256", "secret": "secret/gateway/clients#BACKEND",
                    "rate_limit": ["limit": 2, "period": 60],
                ],
                "fenced": [
                    "key_id": "fenced-1", "algorithm": "hmac-sha256", "secret": "secret/gateway/clients#BACKEND",
                    "allowed_cidrs": ["10.0.0.0/8"],
                ],
            ]
            let saved = try await client.call(.put, "/v1/gateway/projects/weather", token: root, json: .object(document))
            #expect(saved.status == .ok, "\(saved.raw)")
            #expect(saved.data["clients"]?["limited"]?["rate_limit"] == ["limit": 2, "period": 60])
            var timestamp = fixture.clock.nowMillis / 1000
            func signed(_ keyID: String) async throws -> Fixture.Client.Reply {
                timestamp += 1
                let path = base + "/forecast/Bern"
                let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).GET.\(path).".utf8), using: SymmetricKey(data: Array(secret.utf8)))
                let hex = mac.map { String(format: "%02x", $0) }.joined()
                return try await client.call(
                    .get, path, headers: [("x-signature", hex), ("x-timestamp", String(timestamp)), ("x-key-id", keyID)])
            }
            #expect(try await signed("limited-1").status == .ok)
            #expect(try await signed("limited-1").status == .ok)
            let limited = try await signed("limited-1")
            #expect(limited.status == .tooManyRequests && limited.code == "RATE_LIMITED" && limited.headers[.retryAfter] != nil)
            let fenced = try await signed("fenced-1")
            #expect(fenced.status == .forbidden && fenced.code == "PERMISSION_DENIED")
            let bad = try await client.call(
                .put, "/v1/gateway/projects/weather", token: root,
                json: .object(
                    document.merging([
                        "clients": [
                            "x": ["key_id": "x", "algorithm": "hmac-sha256", "secret": "secret/a#B", "rate_limit": ["limit": 0, "period": 60]]
                        ]
                    ]) { $1 }))
            #expect(bad.code == "INVALID_REQUEST")
        }
    }

    @Test func burstsAboveTheClientsOwnBaselineAreAnomalies() {
        var policy = GatewayAnomalyPolicy()
        policy.windowSeconds = 10
        policy.burstFactor = 5
        policy.burstMinCalls = 10
        var window = AnomalyWindow(start: 0)
        let net = "198.51.100.0/24"
        // Three windows of 4 calls: a baseline of 4.
        for index in 0..<3 {
            for call in 0..<4 { #expect(window.record(.call(network: net), now: Int64(index) * 10_000 + Int64(call), policy: policy) == nil) }
        }
        for call in 0..<19 { #expect(window.record(.call(network: net), now: 30_000 + Int64(call), policy: policy) == nil) }
        let reason = window.record(.call(network: net), now: 30_100, policy: policy)
        #expect(reason == "20 calls within 10 s, 5× or more the client's usual 4")
        // Without history, or with the signal off, no call is a burst.
        var fresh = AnomalyWindow(start: 0)
        for call in 0..<500 { #expect(fresh.record(.call(network: net), now: Int64(call), policy: policy) == nil) }
        policy.burstFactor = 0
        for call in 0..<500 { #expect(window.record(.call(network: net), now: 30_200 + Int64(call), policy: policy) == nil) }
        // Quiet windows lower the baseline (decayed per empty window).
        var decayed = AnomalyWindow(start: 0)
        for _ in 0..<10 { _ = decayed.record(.call(network: net), now: 1, policy: policy) }
        _ = decayed.record(.call(network: net), now: 10_000, policy: policy)
        #expect(decayed.baseline == 10 && decayed.windowsSeen == 1)
        _ = decayed.record(.call(network: net), now: 40_000, policy: policy)
        #expect(abs(decayed.baseline - (0.7 * 10 + 0.3 * 1) * 0.7 * 0.7) < 1e-9 && decayed.windowsSeen == 4)
    }

    @Test func callsFromNetworksNeverSeenAreAnomaliesOnceLearnt() {
        var policy = GatewayAnomalyPolicy()
        policy.learningCalls = 3
        policy.maxNewNetworks = 2
        var window = AnomalyWindow(start: 0)
        #expect(AnomalyWindow.network(of: "203.0.113.7") == "203.0.113.0/24")
        #expect(AnomalyWindow.network(of: "2001:db8:1:2::5") == "2001:db8:1::/48")
        let home = AnomalyWindow.network(of: "203.0.113.7")
        let office = AnomalyWindow.network(of: "2001:db8:1:2::5")
        for (index, network) in [home, office, home].enumerated() {
            #expect(window.record(.call(network: network), now: Int64(index), policy: policy) == nil)
        }
        #expect(window.record(.call(network: AnomalyWindow.network(of: "203.0.113.200")), now: 5, policy: policy) == nil, "same /24")
        #expect(window.record(.call(network: "192.0.2.0/24"), now: 6, policy: policy) == nil)
        #expect(
            window.record(.call(network: "198.51.100.0/24"), now: 7, policy: policy)
                == "2 calls within 60 s from networks never seen for this client (latest 198.51.100.0/24)")
        policy.maxNewNetworks = 0
        for call in 0..<50 { #expect(window.record(.call(network: "192.0.2.0/24"), now: 10 + Int64(call), policy: policy) == nil) }
    }

    @Test func windowsResetAndCountEachKindSeparately() {
        var policy = GatewayAnomalyPolicy()
        policy.windowSeconds = 10
        policy.maxFailures = 2
        policy.maxOriginRefusals = 1
        var window = AnomalyWindow(start: 0)
        #expect(window.record(.failure, now: 1_000, policy: policy) == nil)
        #expect(window.record(.failure, now: 10_000, policy: policy) == nil, "a new window at 10 s")
        #expect(window.record(.failure, now: 11_000, policy: policy) == "2 refused calls within 10 s")
        #expect(window.record(.originRefused, now: 12_000, policy: policy) == "1 calls from unlisted origins within 10 s")
        let tracker = AnomalyTracker()
        #expect(tracker.record(.failure, key: "a", now: 0, policy: policy) == nil)
        #expect(tracker.record(.failure, key: "b", now: 0, policy: policy) == nil)
        #expect(tracker.record(.failure, key: "a", now: 1, policy: policy) != nil)
        #expect(tracker.record(.failure, key: "a", now: 2, policy: policy) == nil, "counting starts again after a suspension")
    }
}

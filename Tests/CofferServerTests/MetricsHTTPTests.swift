import AsyncHTTPClient
import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@Suite("HTTP: Prometheus metrics")
struct MetricsHTTPTests {
    /// The value of one series in an exposition (`name{labels} value`), if present.
    static func value(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// The series (name and labels) of `metric` in an exposition.
    static func series(_ exposition: String, _ metric: String) -> Set<String> {
        Set(
            exposition.split(separator: "\n").filter { $0.hasPrefix(metric + "{") || $0.hasPrefix(metric + " ") }.map {
                String($0.prefix { $0 != " " })
            })
    }

    @Test func onlyTheSystemTenantWithMetricsReadScrapes() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            #expect(try await client.call(.get, "/metrics").code == "UNAUTHENTICATED")
            let admin = try await client.call(.get, "/metrics", token: root)
            #expect(admin.status == .ok && admin.headers[.contentType] == MetricsController.contentType)
            #expect(admin.raw.contains("# TYPE coffer_http_requests_total counter"))
            let auditor = try await client.token(root, role: "auditor")
            #expect(try await client.call(.get, "/v1/sys/metrics?format=prometheus", token: auditor).status == .ok, "Vault's path and format")
            #expect(try await client.call(.get, "/v1/sys/metrics", token: auditor).status == .ok)
            #expect(try await client.call(.get, "/v1/sys/metrics?format=json", token: auditor).code == "INVALID_REQUEST")
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.get, "/metrics", token: modifier).code == "PERMISSION_DENIED")

            let (reader, _) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["metrics:read"]])
            #expect(try await client.call(.get, "/metrics", bearer: reader).status == .ok, "a scoped key of the system tenant")
            let (other, _) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["audit:read"]])
            #expect(try await client.call(.get, "/metrics", bearer: other).code == "PERMISSION_DENIED")

            // Another tenant's admin: the metrics count every tenant, so no.
            let acme = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "acme"])
            let acmeAdmin = try #require(acme.body["auth"]?["client_token"]?.stringValue)
            let refused = try await client.call(.get, "/metrics", token: acmeAdmin, namespace: "acme")
            #expect(refused.status == .forbidden && refused.code == "PERMISSION_DENIED")
            let (acmeKey, _) = try await APIKeyHTTPTests.create(client, acmeAdmin, ["scopes": ["metrics:read"]], namespace: "acme")
            #expect(try await client.call(.get, "/metrics", bearer: acmeKey, namespace: "acme").code == "PERMISSION_DENIED")
        }
    }

    @Test func labelsStayBoundedWhateverClientsSend() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let secret = "hunter2-\(UUID().uuidString)"
            let (key, keyID) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["kv:read:*"]])
            func burst(_ round: Int) async throws {
                for index in 0..<20 {
                    let path = "p\(round)-\(index)-\(UUID().uuidString)"
                    try await client.call(.post, "/v1/secret/data/\(path)", token: root, json: ["data": ["password": .string(secret)]])
                    try await client.call(.get, "/v1/secret/data/\(path)", bearer: key)
                    try await client.call(.get, "/v1/\(path)/\(secret)", token: root)
                    try await client.call(HTTPRequest.Method("BREW\(index)") ?? .get, "/v1/sys/health")
                    try await client.call(.get, "/v1/secret/data/\(path)", namespace: "tenant-\(path)", headers: [("X-Vault-Token", "cft_\(path)")])
                }
            }
            try await burst(1)
            try await client.call(.get, "/metrics", token: root)  // so the scrape's own series exists before the snapshot
            let first = try await client.call(.get, "/metrics", token: root).raw
            try await burst(2)
            let second = try await client.call(.get, "/metrics", token: root).raw
            for metric in ["coffer_http_requests_total", "coffer_http_request_duration_seconds_bucket", "coffer_rate_limit_refusals_total"] {
                #expect(Self.series(first, metric) == Self.series(second, metric), "new paths, methods and tenants add no series of \(metric)")
            }
            for leaked in [secret, key, keyID, root, "tenant-p1", "p1-0-", "BREW"] {
                #expect(!second.contains(leaked), "the exposition never names \(leaked.prefix(6))…")
            }
            #expect(Self.value(second, #"coffer_http_requests_total{route="/v1/{mount}/data/**",method="POST",status_class="2xx"}"#) == 40)
            #expect(Self.value(second, #"coffer_http_requests_total{route="unmatched",method="GET",status_class="4xx"}"#) == 40)
            #expect(
                Self.value(second, #"coffer_http_requests_total{route="unmatched",method="OTHER",status_class="4xx"}"#) == 40, "a method no route has"
            )
            #expect(Self.series(second, "coffer_http_requests_total").count <= 8)
        }
    }

    @Test func verificationsRefusalsAndKeysAreCounted() async throws {
        let fixture = try await Fixture.make { $0.rateLimits.anonymousPerMinute = 3 }
        try await fixture.test { client in
            let root = fixture.rootToken
            let (caller, _) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["keys:verify"]])
            let (plain, plainID) = try await APIKeyHTTPTests.create(client, root, ["scopes": ["orders:read"]])
            _ = try await APIKeyHTTPTests.verify(client, caller: caller, ["key": .string(plain)])
            _ = try await APIKeyHTTPTests.verify(client, caller: caller, ["key": "not-a-key"])
            _ = try await APIKeyHTTPTests.verify(client, caller: caller, ["key": "still-not-a-key"])
            #expect(try await client.call(.post, "/v1/keys/\(plainID)/revoke", token: root, json: [:]).status == .ok)
            _ = try await APIKeyHTTPTests.verify(client, caller: caller, ["key": .string(plain)])
            for _ in 0..<4 { try await client.call(.get, "/v1/secret/data/x", token: "cft_wrong") }
            let text = try await client.call(.get, "/metrics", token: root).raw
            #expect(Self.value(text, #"coffer_api_key_verifications_total{code="VALID"}"#) == 1)
            #expect(Self.value(text, #"coffer_api_key_verifications_total{code="MALFORMED"}"#) == 2)
            #expect(Self.value(text, #"coffer_api_key_verifications_total{code="REVOKED"}"#) == 1)
            #expect(Self.value(text, #"coffer_api_key_verifications_total{code="EXPIRED"}"#) == 0, "every code exists from the first scrape")
            #expect(Self.value(text, #"coffer_rate_limit_refusals_total{tier="anonymous"}"#) == 1, "the fourth anonymous failure")
            #expect(Self.value(text, #"coffer_api_keys{state="active",age="lt_30d"}"#) == 1)
            #expect(Self.value(text, #"coffer_api_keys{state="revoked",age="lt_30d"}"#) == 1)
            #expect(Self.value(text, "coffer_audit_queue_depth") == 0)
            #expect(Self.value(text, "coffer_sealed") == 0)
            #expect((Self.value(text, "coffer_audit_group_commit_size_count") ?? 0) >= 1)
            // Counters never go backwards across scrapes.
            let again = try await client.call(.get, "/metrics", token: root).raw
            #expect(Self.value(again, #"coffer_api_key_verifications_total{code="MALFORMED"}"#) == 2)
        }
    }

    @Test func theSeparateListenerServesMetricsAloneWithoutACredential() async throws {
        let fixture = try await Fixture.make()
        let (port, listener) = try await Self.startListener(fixture.runtime)
        defer { listener.cancel() }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let metrics = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(10))
            let body = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
            #expect(metrics.status == .ok && body.contains("coffer_sealed 0"))
            #expect(metrics.headers.first(name: "content-type") == MetricsController.contentType)
            let health = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/sys/health"), timeout: .seconds(10))
            #expect(health.status == .notFound, "nothing but /metrics on the metrics listener")
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
        await fixture.runtime.shutdown()
    }

    static func startListener(_ runtime: CofferRuntime) async throws -> (Int, Task<Void, any Error>) {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let listener = CofferApplication.metricsListener(runtime: runtime, host: "127.0.0.1", port: 0, logger: .init(label: "test")) {
            continuation.yield($0)
        }
        let task = Task { try await listener.runService() }
        for await port in ports { return (port, task) }
        throw CofferError(.internalError, "the metrics listener did not start")
    }

    @Test(arguments: [
        ("127.0.0.1:9464", "127.0.0.1", 9464), ("[::1]:9100", "::1", 9100), ("0.0.0.0:0", "0.0.0.0", 0),
    ])
    func listenAddressesParse(text: String, host: String, port: Int) throws {
        var configuration = ServerConfiguration()
        configuration.metricsListen = text
        let address = try #require(try configuration.metricsAddress())
        #expect(address.host == host && address.port == port)
    }

    @Test(arguments: ["9464", ":9464", "host:", "host:70000", "host:-1", "a b:1", "[::1:9100", "http://x:1"])
    func malformedListenAddressesAreRefused(text: String) {
        var configuration = ServerConfiguration()
        configuration.metricsListen = text
        #expect(throws: CofferError(.configInvalid, "metrics.listen must be host:port (e.g. 127.0.0.1:9464 or [::1]:9464)")) {
            try configuration.validate()
        }
    }
}

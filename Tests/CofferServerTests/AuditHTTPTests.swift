import CofferCore
import CofferServer
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@Suite("HTTP: audit log")
struct AuditHTTPTests {
    static func entries(_ client: Fixture.Client, _ token: String, _ query: String = "") async throws -> [JSONValue] {
        let reply = try await client.call(.get, "/v1/audit/entries?limit=1000" + query, token: token)
        guard case .array(let items) = reply.data["entries"] ?? .null else { throw CofferError(.internalError, "no entries: \(reply.raw)") }
        return items
    }

    @Test func requestsAndFailedAuthenticationsAreRecordedWithoutSecrets() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let canary = "canary-\(UUID().uuidString)"
            let write = try await client.call(
                .post, "/v1/secret/data/app/db", token: root,
                json: ["data": ["password": .string(canary), "name": .string(canary + "-under-a-parameter-name")], "options": ["cas": 0]])
            let writeID = try #require(write.headers[.requestID])
            _ = try await client.call(.get, "/v1/secret/data/app/db", token: root)
            _ = try await client.call(.get, "/v1/secret/data/app/db", token: "cft_" + String(repeating: "x", count: 43))
            _ = try await client.call(.get, "/v1/sys/health")

            let all = try await Self.entries(client, root)
            let raw = String(decoding: JSONValue.array(all).canonicalBytes(), as: UTF8.self)
            #expect(!raw.contains(canary), "secret values never appear in the log")
            #expect(!raw.contains(root), "nor tokens")
            let written = try #require(all.first { $0["operation"] == "kv.write" })
            #expect(written["request_id"]?.stringValue == writeID)
            #expect(written["status"] == 200 && written["resource_id"] == "secret/app/db" && written["resource_type"] == "kv")
            #expect(written["actor"]?["role"] == "admin" && written["actor"]?["kind"] == "token")
            #expect(written["actor"]?["id"]?.stringValue?.isEmpty == false)
            #expect(written["request"]?["options"]?["cas"] == 0, "non-sensitive fields stay readable")
            let hashed = try #require(written["request"]?["data"]?["password"]?.stringValue)
            #expect(hashed.hasPrefix("hmac-sha256:"))
            #expect(written["time"]?.stringValue?.hasSuffix("Z") == true && written["user_agent"] != nil && written["entry_hash"] != nil)

            // "Was this value written?" — the auditor hashes a candidate the same way.
            let auditor = try await client.token(root, role: "auditor")
            let check = try await client.call(.post, "/v1/sys/audit-hash", token: auditor, json: ["input": .string(canary)])
            #expect(check.data["hash"]?.stringValue == hashed)
            let other = try await client.call(.post, "/v1/sys/audit-hash", token: auditor, json: ["input": "something else"])
            #expect(other.data["hash"]?.stringValue != hashed)

            #expect(all.contains { $0["operation"] == "kv.read" && $0["status"] == 200 })
            let failed = try #require(all.first { $0["operation"] == "auth.failed" })
            #expect(failed["status"] == 403 && failed["error_code"] == "UNAUTHENTICATED" && failed["actor"]?["kind"] == "anonymous")
            #expect(!all.contains { $0["resource_id"] == "/v1/sys/health" }, "unauthenticated probes are not audited")
            let filtered = try await Self.entries(client, root, "&outcome=failure")
            #expect(!filtered.isEmpty && filtered.allSatisfy { $0["status"] != 200 })
            #expect(try await Self.entries(client, root, "&request_id=\(writeID)").count == 1)
        }
    }

    @Test func onlyAuditorsAndAdminsReadTheLogAndOnlyAdminsTrimIt() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let auditor = try await client.token(root, role: "auditor")
            let viewer = try await client.token(root, role: "viewer")
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.get, "/v1/audit/entries", token: auditor).status == .ok)
            #expect(try await client.call(.post, "/v1/audit/verify", token: auditor).data["ok"] == true)
            for token in [viewer, modifier] {
                #expect(try await client.call(.get, "/v1/audit/entries", token: token).code == "PERMISSION_DENIED")
                #expect(try await client.call(.post, "/v1/sys/audit-hash", token: token, json: ["input": "x"]).status == .forbidden)
            }
            #expect(try await client.call(.post, "/v1/audit/retention", token: auditor, json: ["before": "30d"]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.post, "/v1/audit/retention", token: root, json: ["before": "not-a-date"]).status == .badRequest)
            // Another tenant's chain is invisible.
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "other"])
            let otherAdmin = try #require(other.body["auth"]?["client_token"]?.stringValue)
            let theirs = try await Self.entries(client, otherAdmin)
            #expect(theirs.allSatisfy { $0["actor"]?["id"] != .string("") || $0["operation"] == "auth.failed" })
            #expect(!theirs.contains { $0["operation"] == "token.create" })
        }
    }

    @Test func failedAuditWritesFailTheRequestAndItsEffect() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await client.call(.post, "/v1/secret/data/kept", token: root, json: ["data": ["v": "before"]])
            try await fixture.storage.database.query(
                "CREATE TRIGGER broken BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END", [])
            let write = try await client.call(.post, "/v1/secret/data/new", token: root, json: ["data": ["v": "must-not-land"]])
            #expect(write.status == .serviceUnavailable && write.code == "AUDIT_UNAVAILABLE")
            let read = try await client.call(.get, "/v1/secret/data/kept", token: root)
            #expect(read.status == .serviceUnavailable && !read.raw.contains("before"), "an unaudited read returns nothing")
            let token = try await client.call(.post, "/v1/auth/token/create", token: root, json: ["role": "viewer"])
            #expect(token.status == .serviceUnavailable && !token.raw.contains("cft_"))
            try await fixture.storage.database.query("DROP TRIGGER broken", [])
            #expect(try await client.call(.get, "/v1/secret/data/new", token: root).status == .notFound, "the refused write did not happen")
            #expect(try await client.call(.get, "/v1/secret/data/kept", token: root).data["data"]?["v"] == "before")
            #expect(try await client.call(.post, "/v1/audit/verify", token: root).data["ok"] == true)
        }
    }

    @Test func checkpointsRetentionAndVerifyOverHTTP() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for index in 0..<3 { try await client.call(.post, "/v1/secret/data/s\(index)", token: root, json: ["data": ["v": "x"]]) }
            let checkpoint = try await client.call(.post, "/v1/audit/checkpoint", token: root).data
            #expect(checkpoint["algorithm"] == "ed25519" && checkpoint["sequence"] == 3, "the head before this request's own entry")
            let listed = try await client.call(.get, "/v1/audit/checkpoints", token: root)
            let publicKey = try #require(listed.data["public_key"]?.stringValue)
            #expect(publicKey == checkpoint["public_key"]?.stringValue)

            let ok = try await client.call(
                .post, "/v1/audit/verify", token: root, json: ["checkpoints": [checkpoint], "public_key": .string(publicKey)])
            #expect(ok.data["ok"] == true && ok.data["checkpoints_checked"] == 1)
            var forged = checkpoint.objectValue ?? [:]
            forged["sequence"] = .int((checkpoint["sequence"]?.intValue ?? 0) - 1)
            let bad = try await client.call(.post, "/v1/audit/verify", token: root, json: ["checkpoints": [.object(forged)]])
            #expect(bad.data["ok"] == false && bad.data["reason"] == "checkpoint signature is invalid")
            let wrongKey = try await client.call(
                .post, "/v1/audit/verify", token: root,
                json: ["checkpoints": [checkpoint], "public_key": .string(String(repeating: "ab", count: 32))])
            #expect(wrongKey.data["ok"] == false)

            fixture.clock.advance(millis: 40 * 86_400_000)
            try await client.call(.post, "/v1/secret/data/late", token: root, json: ["data": ["v": "y"]])
            let cut = try await client.call(.post, "/v1/audit/retention", token: root, json: ["before": "30d"])
            #expect(cut.status == .ok && (cut.data["deleted"]?.intValue ?? 0) >= 4, "\(cut.raw)")
            let after = try await Self.entries(client, root)
            let record = try #require(after.first { $0["operation"] == "audit.retention.cut" })
            #expect(record["details"]?["deleted"]?.stringValue == cut.data["deleted"]?.intValue.map(String.init))
            #expect(try await client.call(.post, "/v1/audit/verify", token: root).data["ok"] == true, "the chain verifies from the cut")
        }
    }

    /// The periodic pass signs a checkpoint only for chains that grew since their last one.
    @Test func periodicCheckpointsCoverGrownChainsOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "quiet"])
            _ = try #require(other.body["auth"]?["client_token"]?.stringValue)
            try await client.call(.post, "/v1/secret/data/a", token: root, json: ["data": ["v": "x"]])
            try await fixture.runtime.checkpointAll()
            let rootID = try #require(try await fixture.storage.tenants.tenant(named: "root")?.id)
            let quietID = try #require(try await fixture.storage.tenants.tenant(named: "quiet")?.id)
            let first = try await fixture.runtime.audit.store.checkpoints(tenantID: rootID)
            #expect(first.count == 1 && first[0].sequence == 2 && first[0].verifySignature())
            #expect(try await fixture.runtime.audit.store.checkpoints(tenantID: quietID).isEmpty, "an empty chain gets no checkpoint")
            try await fixture.runtime.checkpointAll()
            #expect(try await fixture.runtime.audit.store.checkpoints(tenantID: rootID).count == 1, "nothing new, nothing signed")
            try await client.call(.post, "/v1/secret/data/b", token: root, json: ["data": ["v": "y"]])
            try await fixture.runtime.checkpointAll()
            #expect(try await fixture.runtime.audit.store.checkpoints(tenantID: rootID).map(\.sequence) == [2, 3])
        }
    }

    final class FlakyCollector: AuditHTTPTransport {
        let received = Mutex<[String]>([])
        let failures = Mutex(2)
        func post(url: String, body: [UInt8]) async -> Bool {
            if failures.withLock({ value in
                defer { value -= 1 }
                return value > 0
            }) {
                return false
            }
            received.withLock { $0.append(contentsOf: String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)) }
            return true
        }
    }

    @Test func fileAndHTTPSinksReceiveEveryEntry() async throws {
        let directory = NSTemporaryDirectory() + "coffer-sink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let collector = FlakyCollector()
        let fixture = try await Fixture.make(auditTransport: collector) { configuration in
            configuration.auditFile = directory + "/audit.jsonl"
            configuration.auditHTTPURL = "http://collector.invalid/ingest"
        }
        try await fixture.test { client in
            for index in 0..<5 {
                try await client.call(.post, "/v1/secret/data/s\(index)", token: fixture.rootToken, json: ["data": ["v": "sink-secret"]])
            }
            _ = try await client.call(.get, "/v1/secret/data/s0", token: "cft_bad")
            let deadline = Date().addingTimeInterval(10)
            while collector.received.withLock({ $0.count }) < 6, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        let lines = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 6)
        #expect(fileMode(directory + "/audit.jsonl") == 0o600)
        #expect(!lines.joined().contains("sink-secret"))
        let first = try #require(JSONValue.parse(Array(lines[0].utf8)))
        #expect(first["sequence"] == 1 && first["entry"]?["operation"] == "kv.write")
        #expect(collector.received.withLock { $0.count } == 6, "the HTTP sink retried through two failures")
        #expect(fixture.runtime.auditSinks.droppedHTTP == 0)
    }

    final class DeadCollector: AuditHTTPTransport {
        let attempts = Mutex(0)
        func post(url: String, body: [UInt8]) async -> Bool {
            attempts.withLock { $0 += 1 }
            return false
        }
    }

    /// A collector that never answers costs nothing but a count: requests still succeed (the database is the record).
    @Test func anUnreachableCollectorDropsAndCountsAfterRetries() async throws {
        let collector = DeadCollector()
        let fixture = try await Fixture.make(auditTransport: collector) { $0.auditHTTPURL = "http://collector.invalid/ingest" }
        try await fixture.test { client in
            #expect(try await client.call(.post, "/v1/secret/data/x", token: fixture.rootToken, json: ["data": ["v": "1"]]).status == .ok)
            let deadline = Date().addingTimeInterval(10)
            while fixture.runtime.auditSinks.droppedHTTP == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(fixture.runtime.auditSinks.droppedHTTP == 1)
        #expect(collector.attempts.withLock { $0 } == 4, "four attempts before giving up")
    }

    @Test func reportSummarisesTheLog() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            for index in 0..<3 { try await client.call(.post, "/v1/secret/data/r\(index)", token: root, json: ["data": ["v": "x"]]) }
            _ = try await client.call(.get, "/v1/secret/data/r0", token: root)
            for _ in 0..<2 { _ = try await client.call(.get, "/v1/secret/data/r0", token: "cft_nope") }
            let report = try await client.call(.get, "/v1/audit/report?period=30d", token: root).data
            #expect(report["operations"]?["kv.write"] == 3 && report["operations"]?["kv.read"] == 1)
            #expect(report["failed_authentications"] == 2)
            #expect(report["algorithms"]?["aes-256-gcm"] == 4)
            #expect(report["keys"]?.arrayCount == 1)
            #expect(try await client.call(.get, "/v1/audit/report?period=soon", token: root).status == .badRequest)
        }
    }
}

func fileMode(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int(info.st_mode & 0o777)
}

import CofferCore
import Foundation
import Synchronization
import Testing

@testable import CofferServer

/// Background re-encryption jobs, the key-usage audit and scheduled rotation over HTTP, with the
/// leader's work (`runKeyringJobs`, `rotateScheduledDataKeys`) called by the test.
@Suite("HTTP: re-encryption jobs and rotation schedules")
struct KeyringJobHTTPTests {
    static func fill(_ client: Fixture.Client, _ token: String, count: Int) async throws {
        for index in 0..<count {
            let reply = try await client.call(
                .post, "/v1/secret/data/app/item\(index)", token: token, json: ["data": ["value": .string("v\(index)")]])
            #expect(reply.status == .ok)
        }
    }

    /// `count` secrets, the data key rotated, a job started with `body`: its id.
    static func startJob(_ client: Fixture.Client, _ token: String, secrets count: Int, _ body: JSONValue = [:]) async throws -> String {
        try await fill(client, token, count: count)
        try await client.call(.post, "/v1/sys/keyring/rotate", token: token)
        let started = try await client.call(.post, "/v1/sys/keyring/jobs", token: token, json: body)
        return try #require(started.data["id"]?.stringValue, "\(started.raw)")
    }

    @Test func aJobMovesEverythingToTheNewKeyAndDestroysWhatNothingUses() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.fill(client, root, count: 25)
            #expect(try await client.call(.post, "/v1/transit/keys/app", token: root, json: [:]).status.code < 300)
            #expect(try await client.call(.post, "/v1/sys/keyring/rotate", token: root).data["active_version"] == 2)
            let policy = try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["retain_old_keys": 0])
            #expect(policy.data["retain_old_keys"] == 0)
            // Version 1 is in use before the job: 25 KV versions and the transit key.
            let before = try await client.call(.get, "/v1/sys/keyring/usage/1", token: root)
            #expect(before.data["kv_versions"] == 25)
            #expect(before.data["transit_keys"] == ["app"])
            #expect(before.data["in_use"] == true)

            let started = try await client.call(.post, "/v1/sys/keyring/jobs", token: root, json: ["batch_size": 4, "concurrency": 3])
            #expect(started.status == .accepted)
            let id = try #require(started.data["id"]?.stringValue)
            #expect(started.data["state"] == "running")
            #expect(started.data["total"] == 25)
            #expect(started.data["target_version"] == 2)

            let ran = try await fixture.runtime.runKeyringJobs()
            #expect(ran.map(\.id) == [id])
            for path in ["/v1/sys/keyring/jobs/\(id)", "/v1/keyring/jobs/\(id)"] {
                let job = try await client.call(.get, path, token: root)
                #expect(job.data["state"] == "completed")
                #expect(job.data["done"] == 25)
                #expect(job.data["remaining"] == 0)
                #expect(job.data["percent"] == 100)
                #expect(job.data["transit_keys_resealed"] == 1)
                #expect(job.data["destroyed_versions"] == [1])
            }
            // Version 1 is gone; everything reads under version 2.
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/2", token: root).data["kv_versions"] == 25)
            #expect(try await client.call(.get, "/v1/sys/keyring", token: root).data["versions"]?.arrayValue?.count == 1)
            for index in [0, 12, 24] {
                #expect(try await client.call(.get, "/v1/secret/data/app/item\(index)", token: root).data["data"]?["value"] == .string("v\(index)"))
            }
            let sealed = try await client.call(.post, "/v1/transit/encrypt/app", token: root, json: ["plaintext": "aGk="])
            #expect(sealed.status == .ok)
            #expect(try await client.call(.get, "/v1/sys/keyring/verify", token: root).data["ok"] == true)
            // The list shows it; nothing is left to run.
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs", token: root).data["jobs"]?.arrayValue?.count == 1)
            #expect(try await fixture.runtime.runKeyringJobs().isEmpty)
        }
    }

    @Test func oneJobAtATimeEachTenantSeesOnlyItsOwnAndBadInputIsRefused() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let id = try await Self.startJob(client, root, secrets: 3)
            let second = try await client.call(.post, "/v1/sys/keyring/jobs", token: root, json: [:])
            #expect(second.status == .conflict)
            #expect(second.code == "JOB_RUNNING")

            let other = try await client.call(.post, "/v1/sys/tenants", token: root, json: ["name": "other"])
            let otherToken = try #require(other.body["auth"]?["client_token"]?.stringValue)
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: otherToken).code == "NOT_FOUND")
            #expect(try await client.call(.post, "/v1/sys/keyring/jobs/\(id)/cancel", token: otherToken).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs", token: otherToken).data["jobs"] == [])
            let modifier = try await client.token(root, role: "modifier")
            #expect(try await client.call(.post, "/v1/sys/keyring/jobs", token: modifier, json: [:]).code == "PERMISSION_DENIED")
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: modifier).code == "PERMISSION_DENIED")

            for (body, code) in [
                (["batch_size": 0] as JSONValue, "INVALID_REQUEST"), (["batch_size": 10_001], "INVALID_REQUEST"),
                (["concurrency": 17], "INVALID_REQUEST"), (["throttle": -1], "INVALID_REQUEST"),
                (["batch_size": .number(JSONNumber(literal: "1e30")!)], "INVALID_REQUEST"), (["max_batches": 3], "INVALID_REQUEST"),
                (["batch_size": "ten"], "INVALID_REQUEST"),
            ] {
                let reply = try await client.call(.post, "/v1/sys/keyring/jobs", token: otherToken, json: body)
                #expect(reply.code == code, "\(body)")
                #expect(reply.status == .badRequest)
            }
            for path in ["rej_nothex", "rej_" + String(repeating: "0", count: 32), String(repeating: "x", count: 500)] {
                #expect(try await client.call(.get, "/v1/sys/keyring/jobs/\(path)", token: root).code == "NOT_FOUND")
            }
            for version in ["0", "-1", "abc", "99999999999999999999", "7"] {
                let reply = try await client.call(.get, "/v1/sys/keyring/usage/\(version)", token: root)
                #expect(reply.code == (version == "7" ? "NOT_FOUND" : "INVALID_REQUEST"), "\(version)")
            }
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs?limit=0", token: root).code == "INVALID_REQUEST")

            // Cancelled: the runner leaves it alone, and it cannot be cancelled twice.
            let cancelled = try await client.call(.post, "/v1/sys/keyring/jobs/\(id)/cancel", token: root)
            #expect(cancelled.data["state"] == "cancelled")
            #expect(try await client.call(.post, "/v1/sys/keyring/jobs/\(id)/cancel", token: root).code == "INVALID_REQUEST")
            #expect(try await fixture.runtime.runKeyringJobs().isEmpty)
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).data["kv_versions"] == 3)
            // A new job may start once the last one ended.
            #expect(try await client.call(.post, "/v1/sys/keyring/jobs", token: root, json: [:]).status == .accepted)
        }
    }

    /// A leader that stops after two pages leaves the job running at its cursor; the next leader (here the
    /// same runtime, reading the stored job afresh) continues and finishes it.
    @Test func aJobResumesFromItsCursorAfterTheLeaderStops() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let id = try await Self.startJob(client, root, secrets: 23, ["batch_size": 5, "concurrency": 2])
            let pages = Mutex(0)
            let stopped = try await fixture.runtime.runKeyringJobs(stillLeading: {
                pages.withLock { count in
                    // Asked once before the job is taken up, then before each page: two pages.
                    count += 1
                    return count <= 3
                }
            })
            #expect(stopped.first?.state == .running)
            let halfway = try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: root)
            #expect(halfway.data["state"] == "running")
            #expect(halfway.data["done"] == 10)
            #expect(halfway.data["remaining"] == 13)
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).data["kv_versions"] == 13)

            let finished = try await fixture.runtime.runKeyringJobs()
            #expect(finished.first?.state == .completed)
            let done = try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: root)
            #expect(done.data["done"] == 23)
            #expect(done.data["total"] == 23)
            // No policy: version 1 is kept (unused now).
            #expect(done.data["destroyed_versions"] == [])
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).data["in_use"] == false)
        }
    }

    /// A sealed server runs no job and fails none: the job waits, still running, until it is unsealed.
    @Test func aSealedServerLeavesTheJobForLater() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            let id = try await Self.startJob(client, root, secrets: 3)
            #expect(try await client.call(.put, "/v1/sys/seal", token: root).status == .noContent)
            #expect(try await fixture.runtime.runKeyringJobs().isEmpty)
            #expect(try await fixture.runtime.rotateScheduledDataKeys().isEmpty)
            #expect(try await client.call(.put, "/v1/sys/unseal", json: ["key": .string(fixture.rootKey)]).status == .ok)
            #expect(try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: root).data["state"] == "running")
            #expect(try await fixture.runtime.runKeyringJobs().map(\.state) == [.completed])
        }
    }

    /// A stored value altered behind Coffer's back stops the job (fail closed); the old key stays.
    @Test func aTamperedRowFailsTheJobAndKeepsTheOldKey() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.fill(client, root, count: 4)
            try await client.call(.post, "/v1/sys/keyring/rotate", token: root)
            try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["retain_old_keys": 0])
            let rootID = try #require(try await fixture.storage.tenants.tenant(named: "root")?.id)
            // Swap two rows' blobs: both authentic, each under the other's AAD.
            try await fixture.storage.database.query(
                "UPDATE kv_versions SET blob = (SELECT blob FROM kv_versions WHERE tenant_id = $1 AND path = 'app/item0') WHERE tenant_id = $1 AND path = 'app/item1'",
                [.text(rootID)])
            let id = try #require(try await client.call(.post, "/v1/sys/keyring/jobs", token: root, json: [:]).data["id"]?.stringValue)
            _ = try await fixture.runtime.runKeyringJobs()
            let job = try await client.call(.get, "/v1/sys/keyring/jobs/\(id)", token: root)
            #expect(job.data["state"] == "failed", "\(job.raw)")
            #expect(job.data["error"]?.stringValue?.hasPrefix("STORAGE_CORRUPT: secret/app/item1 version 1") == true)
            #expect(job.data["destroyed_versions"] == [])
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).data["in_use"] == true)
            #expect(!job.raw.contains("v0"))
        }
    }

    /// A job tells the tenant's channels (Standard Webhooks-signed) when it starts and completes, and
    /// /metrics counts its events; the chain records its start, its completion and the key it destroyed.
    @Test func jobEventsReachTheChannelsAndTheMetrics() async throws {
        let fixture = try await Fixture.make { $0.alertsAllowInternalURLs = true }
        let upstream = TestUpstream()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await upstream.run { port in
                let secret = try await AlertDeliveryTests.webhookChannel(client, root, port: port)
                try await Self.fill(client, root, count: 6)
                try await client.call(.post, "/v1/sys/keyring/rotate", token: root)
                try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["retain_old_keys": 0])
                let id = try #require(try await client.call(.post, "/v1/sys/keyring/jobs", token: root, json: [:]).data["id"]?.stringValue)
                _ = try await fixture.runtime.runKeyringJobs()
                var types: [String] = []
                for _ in 0..<100 {
                    types = upstream.received.withLock { $0 }.filter { $0.path == "/v2/hooks" }.compactMap {
                        JSONValue.parse(Array($0.body.utf8))?["type"]?.stringValue
                    }
                    if types.contains("keyring.job.completed") { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(types.contains("keyring.job.started") && types.contains("keyring.job.completed"), "\(types)")
                let completed = try #require(upstream.received.withLock { $0 }.last { $0.body.contains("keyring.job.completed") })
                #expect(AlertDeliveryTests.signedCorrectly(completed, secret: secret))
                let data = JSONValue.parse(Array(completed.body.utf8))?["data"]
                #expect(data?["id"] == .string(id) && data?["done"] == 7 && data?["destroyed_versions"] == [1], "\(completed.body)")
                #expect(!completed.body.contains("v0"), "no secret value in a notification")

                let metrics = try await client.call(.get, "/metrics", token: root).raw
                #expect(metrics.contains("coffer_reencryption_job_events_total{event=\"completed\"} 1"), "\(metrics)")
                #expect(metrics.contains("coffer_reencryption_jobs_running 0"))
                for operation in ["keyring.job.start", "keyring.job.completed", "keyring.destroy"] {
                    #expect(try await AuditHTTPTests.entries(client, root, "&operation=\(operation)").count == 1, "\(operation)")
                }
            }
        }
    }

    @Test func theScheduleRotatesOnceAndStartsAJob() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let root = fixture.rootToken
            try await Self.fill(client, root, count: 2)
            // The fixture's clock: 2026-09-21T14:13:20Z; Fluxbase's example schedule runs on the 1st at 02:00.
            let set = try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["schedule": "0 2 1 * *", "batch_size": 50])
            #expect(set.data["next_run_time"] == "2026-10-01T02:00:00.000Z")
            #expect(set.data["auto_reencrypt"] == true)
            #expect(try await fixture.runtime.rotateScheduledDataKeys().isEmpty)
            fixture.clock.advance(millis: 10 * 86_400_000)
            #expect(try await fixture.runtime.rotateScheduledDataKeys().count == 1)
            #expect(try await fixture.runtime.rotateScheduledDataKeys().isEmpty)
            #expect(try await client.call(.get, "/v1/sys/keyring", token: root).data["active_version"] == 2)
            let policy = try await client.call(.get, "/v1/sys/keyring/policy", token: root)
            #expect(policy.data["next_run_time"] == "2026-11-01T02:00:00.000Z")
            let jobs = try #require(try await client.call(.get, "/v1/sys/keyring/jobs", token: root).data["jobs"]?.arrayValue)
            #expect(jobs.count == 1)
            #expect(jobs.first?["trigger"] == "schedule")
            #expect(jobs.first?["batch_size"] == 50)
            _ = try await fixture.runtime.runKeyringJobs()
            #expect(try await client.call(.get, "/v1/sys/keyring/usage/1", token: root).data["kv_versions"] == 0)

            for schedule in ["61 * * * *", "0 0 30 2 *", "* * *", "@never", String(repeating: "1,", count: 150) + "1 * * * *"] {
                let reply = try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["schedule": .string(schedule)])
                #expect(reply.code == "INVALID_REQUEST", "\(schedule)")
                #expect(!reply.raw.contains(schedule))
            }
            for retain in [1001, -2, Int.min] {
                #expect(
                    try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["retain_old_keys": .int(retain)]).code
                        == "INVALID_REQUEST")
            }
            #expect(
                try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["retain_old_keys": -1]).data["retain_old_keys"] == .null)
            #expect(try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["every": "day"]).code == "INVALID_REQUEST")
            // An empty schedule turns it off.
            #expect(try await client.call(.post, "/v1/sys/keyring/policy", token: root, json: ["schedule": ""]).data["next_run_time"] == .null)
        }
    }
}

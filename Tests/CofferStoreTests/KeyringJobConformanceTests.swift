import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Testing

/// Re-encryption paging, guarded multi-row replacement, jobs and rotation policies on every engine
/// (SQLite always, PostgreSQL when `COFFER_TEST_POSTGRES_URL` is set).
@Suite("Keyring job store conformance")
struct KeyringJobConformanceTests {
    static func job(_ tenantID: String, total: Int = 5) throws -> ReencryptionJob {
        ReencryptionJob(
            id: ReencryptionJob.newID(), tenantID: tenantID, trigger: .manual, targetVersion: 2, options: try .init(batchSize: 2), total: total,
            createdAt: 1_000)
    }

    @Test(arguments: StorageEngine.available)
    func pagesFollowTheCursorAndReplacementsAreGuarded(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("pages")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            for path in ["b", "a", "c/d", "c", "e"] { _ = try await StorageConformanceTests.write(storage, tenant.id, path) }
            _ = try await StorageConformanceTests.write(storage, tenant.id, "a")
            #expect(try await storage.secrets.countVersionsBelow(tenantID: tenant.id, keyVersion: 2) == 6)
            var cursor: KVCursor?
            var seen: [String] = []
            while true {
                let page = try await storage.secrets.sealedVersions(tenantID: tenant.id, below: 2, after: cursor, limit: 4)
                guard let last = page.last else { break }
                seen += page.map { "\($0.cursor.path)@\($0.cursor.version)" }
                cursor = last.cursor
            }
            #expect(seen == ["a@1", "a@2", "b@1", "c@1", "c/d@1", "e@1"])
            let first = try #require(try await storage.secrets.sealedVersions(tenantID: tenant.id, below: 2, after: nil, limit: 2))
            let replacements = first.map { BlobReplacement(cursor: $0.cursor, expectedKeyVersion: 1, blob: [9, 9]) }
            #expect(try await storage.secrets.replaceBlobs(tenantID: tenant.id, replacements, keyVersion: 2) == 2)
            // Replaying the same replacements changes nothing: the rows are no longer under version 1.
            #expect(try await storage.secrets.replaceBlobs(tenantID: tenant.id, replacements, keyVersion: 2) == 0)
            // Another tenant's id never reaches these rows.
            let (other, otherKey) = StorageConformanceTests.tenant("pages-other")
            try await storage.tenants.createTenant(other, firstKey: otherKey)
            let rest = try await storage.secrets.sealedVersions(tenantID: tenant.id, below: 2, after: nil, limit: 10)
            let foreign = rest.map { BlobReplacement(cursor: $0.cursor, expectedKeyVersion: 1, blob: [6]) }
            #expect(try await storage.secrets.replaceBlobs(tenantID: other.id, foreign, keyVersion: 2) == 0)
            #expect(try await storage.secrets.countVersionsBelow(tenantID: tenant.id, keyVersion: 2) == 4)
            #expect(try await storage.secrets.versions(tenantID: tenant.id, mount: "secret", path: "a").map(\.keyVersion) == [2, 2])
            // More than one statement's worth (500 rows) in one call.
            for index in 0..<600 { _ = try await StorageConformanceTests.write(storage, other.id, "bulk/\(index)") }
            let bulk = try await storage.secrets.sealedVersions(tenantID: other.id, below: 2, after: nil, limit: 10_000)
            #expect(bulk.count == 600)
            let moved = bulk.map { BlobReplacement(cursor: $0.cursor, expectedKeyVersion: $0.keyVersion, blob: $0.blob) }
            #expect(try await storage.secrets.replaceBlobs(tenantID: other.id, moved, keyVersion: 2) == 600)
        }
    }

    @Test(arguments: StorageEngine.available)
    func oneRunningJobPerTenantAndEndedJobsStayEnded(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("jobs")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let jobs = storage.keyringJobs
            var job = try Self.job(tenant.id)
            try await jobs.insertJob(job, in: .unaudited())
            let again = await expectError(.jobRunning) { try await jobs.insertJob(try Self.job(tenant.id), in: .unaudited()) }
            #expect(again?.message.contains(job.id) == true)
            job.record(rows: 2, millis: 10, cursor: KVCursor(mount: "secret", path: "p;1", version: 3), now: 2_000)
            #expect(try await jobs.saveProgress(job))
            let stored = try #require(try await jobs.job(id: job.id, tenantID: tenant.id))
            #expect(stored.done == 2 && stored.cursor == KVCursor(mount: "secret", path: "p;1", version: 3) && stored.rate == 200)
            #expect(try await jobs.runningJobs().map(\.id) == [job.id])
            #expect(try await jobs.job(id: job.id, tenantID: "id-someone-else") == nil)

            var cancelled = stored
            cancelled.state = .cancelled
            cancelled.finishedAt = 3_000
            #expect(try await jobs.finishJob(cancelled, in: .unaudited()))
            var late = stored
            late.state = .completed
            #expect(try await jobs.finishJob(late, in: .unaudited()) == false, "an ended job is not ended again")
            #expect(try await jobs.saveProgress(stored) == false, "a runner's save after a cancel reports it")
            #expect(try await jobs.job(id: job.id, tenantID: tenant.id)?.state == .cancelled)
            #expect(try await jobs.runningJobs().isEmpty)
            var next = try Self.job(tenant.id)
            next.destroyedVersions = [1, 3]
            next.keptVersions = ["2: 1 transit key"]
            try await jobs.insertJob(next, in: .unaudited())
            #expect(try await jobs.jobs(tenantID: tenant.id, limit: 10).count == 2)
            let read = try #require(try await jobs.job(id: next.id, tenantID: tenant.id))
            #expect(read.destroyedVersions == [1, 3] && read.keptVersions == ["2: 1 transit key"])
        }
    }

    @Test(arguments: StorageEngine.available)
    func policiesAreDueOnceAndUnknownStatesFailClosed(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("policy")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let jobs = storage.keyringJobs
            let policy = RotationPolicy(
                tenantID: tenant.id, schedule: try CronSchedule("@daily"), retainOldKeys: 2, options: try .init(batchSize: 500), nextRunAt: 5_000)
            try await jobs.saveRotationPolicy(policy, in: .unaudited())
            #expect(try await jobs.rotationPolicy(tenantID: tenant.id) == policy)
            #expect(try await jobs.duePolicies(now: 4_999).isEmpty)
            #expect(try await jobs.duePolicies(now: 5_000).map(\.tenantID) == [tenant.id])
            // Two instances claim the same run: one wins.
            async let first = jobs.claimPolicyRun(tenantID: tenant.id, expected: 5_000, ranAt: 5_001, nextRunAt: 90_000)
            async let second = jobs.claimPolicyRun(tenantID: tenant.id, expected: 5_000, ranAt: 5_002, nextRunAt: 90_000)
            let claims = try await [first, second]
            #expect(claims.filter { $0 }.count == 1)
            #expect(try await jobs.duePolicies(now: 10_000).isEmpty)

            let job = try Self.job(tenant.id)
            try await jobs.insertJob(job, in: .unaudited())
            try await storage.database.query(in: .tenant(tenant.id), "UPDATE keyring_jobs SET state = 'paused' WHERE id = $1", [.text(job.id)])
            await expectError(.storageCorrupt) { _ = try await jobs.job(id: job.id, tenantID: tenant.id) }
        }
    }

    /// A data key is removed only when nothing uses it, checked in the removing transaction.
    @Test(arguments: StorageEngine.available)
    func aDataKeyInUseIsNotRemoved(engine: StorageEngine) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("remove")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let second = WrappedDataKey(tenantID: tenant.id, version: 2, rootVersion: 1, wrapped: [2], createdAt: 2)
            try await storage.keyring.addDataKey(second, state: nil, in: .unaudited())
            _ = try await StorageConformanceTests.write(storage, tenant.id, "uses-v1")
            let state = KeyringState(tenantID: tenant.id, generation: 1, activeVersion: 2, highestVersion: 2, digests: [:], mac: [])
            #expect(try await storage.keyring.removeDataKey(tenantID: tenant.id, version: 1, state: state, in: .unaudited()) == false)
            #expect(try await storage.keyring.removeDataKey(tenantID: tenant.id, version: 2, state: state, in: .unaudited()) == false, "active")
            let usage = try await storage.keyring.keyVersionUsage(tenantID: tenant.id, version: 1, limit: 10)
            #expect(usage.kvVersions == 1 && usage.kvSample.map(\.path) == ["uses-v1"] && usage.summary == "1 KV version")
            #expect(try await storage.keyring.dataKeys(tenantID: tenant.id).map(\.version) == [1, 2])
        }
    }
}

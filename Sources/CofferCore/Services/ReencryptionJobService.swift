import Foundation

/// What a job reports to the tenant's alert channels.
public enum ReencryptionEvent: String, Sendable {
    /// Created.
    case started
    /// Crossed a quarter (25, 50, 75 %).
    case progress
    /// Everything moved.
    case completed
    /// Stopped by an error.
    case failed
    /// Stopped by an operator.
    case cancelled
}

/// Background re-encryption jobs (``ReencryptionJob``) and the data-key rotation schedule. Callers start,
/// read and cancel jobs; the cluster's leader runs them (``run(_:stillLeading:)``) page by page,
/// saving progress after each, and rotates keys whose policy is due (``rotateDue()``).
public struct ReencryptionJobService: Sendable {
    private let jobs: any KeyringJobStore
    private let secrets: any SecretStore
    private let keyringStore: any KeyringStore
    private let tenants: any TenantStore
    private let keyring: Keyring
    private let transit: TransitService
    private let assets: GatewayAssetService
    private let clock: any CofferClock
    private let observer: @Sendable (ReencryptionJob, ReencryptionEvent) async -> Void
    private let audited: Bool
    private let parallelWrites: Bool
    private let committed: @Sendable (AuditEntry) -> Void

    /// Creates the service. `observer` hears every job event (the server sends them to alert channels);
    /// the leader's own changes (scheduled rotations, completions, destroyed keys) are audited when
    /// `audited`, and each committed entry is handed to `committed` (the audit sinks and alert rules).
    public init(
        storage: any CofferStorage, keyring: Keyring, transit: TransitService, assets: GatewayAssetService, clock: any CofferClock,
        audited: Bool = true, committed: @escaping @Sendable (AuditEntry) -> Void = { _ in },
        observer: @escaping @Sendable (ReencryptionJob, ReencryptionEvent) async -> Void = { _, _ in }
    ) {
        self.audited = audited
        self.committed = committed
        self.jobs = storage.keyringJobs
        self.parallelWrites = storage.isShared
        self.secrets = storage.secrets
        self.keyringStore = storage.keyring
        self.tenants = storage.tenants
        self.keyring = keyring
        self.transit = transit
        self.assets = assets
        self.clock = clock
        self.observer = observer
    }

    // MARK: - API

    /// Starts a job moving the tenant's data onto its active data key; `JOB_RUNNING` if one runs.
    public func start(
        tenant: Tenant, options: ReencryptionJob.Options, trigger: ReencryptionJob.Trigger, in work: UnitOfWork
    ) async throws
        -> ReencryptionJob
    {
        let now = clock.nowMillis
        let total = try await secrets.countVersionsBelow(tenantID: tenant.id, keyVersion: tenant.activeKeyVersion)
        let job = ReencryptionJob(
            id: ReencryptionJob.newID(), tenantID: tenant.id, trigger: trigger, targetVersion: tenant.activeKeyVersion, options: options,
            total: total, createdAt: now)
        work.addDetails([
            "job_id": job.id, "target_version": String(job.targetVersion), "total": String(total), "batch_size": String(options.batchSize),
            "concurrency": String(options.concurrency), "throttle": String(options.rowsPerSecond), "trigger": trigger.rawValue,
        ])
        try await jobs.insertJob(job, in: work)
        await observer(job, .started)
        return job
    }

    /// A tenant's job; `NOT_FOUND` for an unknown id or another tenant's.
    public func job(tenant: Tenant, id: String) async throws -> ReencryptionJob {
        guard ReencryptionJob.isValidID(id), let job = try await jobs.job(id: id, tenantID: tenant.id) else {
            throw CofferError(.notFound, "no re-encryption job with this id")
        }
        return job
    }

    /// A tenant's newest jobs (at most `limit`, 1-100).
    public func list(tenant: Tenant, limit: Int) async throws -> [ReencryptionJob] {
        guard (1...100).contains(limit) else { throw CofferError(.invalidRequest, "limit must be 1-100") }
        return try await jobs.jobs(tenantID: tenant.id, limit: limit)
    }

    /// Cancels a running job (its runner stops after the page in hand); `INVALID_REQUEST` if it ended.
    public func cancel(tenant: Tenant, id: String, in work: UnitOfWork) async throws -> ReencryptionJob {
        var job = try await self.job(tenant: tenant, id: id)
        guard job.state == .running else { throw CofferError(.invalidRequest, "the job already ended (\(job.state.rawValue))") }
        job.state = .cancelled
        job.updatedAt = clock.nowMillis
        job.finishedAt = job.updatedAt
        work.addDetails(["job_id": job.id, "done": String(job.done)])
        guard try await jobs.finishJob(job, in: work) else { throw CofferError(.invalidRequest, "the job already ended") }
        await observer(job, .cancelled)
        return job
    }

    /// What of the tenant's data still uses data-key `version`; `NOT_FOUND` for a version it never had.
    public func usage(tenant: Tenant, version: Int, limit: Int) async throws -> KeyVersionUsage {
        guard (1...1000).contains(limit) else { throw CofferError(.invalidRequest, "limit must be 1-1000") }
        guard try await keyringStore.dataKeys(tenantID: tenant.id).contains(where: { $0.version == version }) else {
            throw CofferError(.notFound, "no data-key version \(version) in this tenant")
        }
        return try await keyringStore.keyVersionUsage(tenantID: tenant.id, version: version, limit: limit)
    }

    // MARK: - Policy

    /// The tenant's rotation policy (defaults when none was set: no schedule, keep every key).
    public func policy(tenant: Tenant) async throws -> RotationPolicy {
        try await jobs.rotationPolicy(tenantID: tenant.id) ?? RotationPolicy(tenantID: tenant.id, options: try ReencryptionJob.Options())
    }

    /// Changes the tenant's rotation policy (what `change` names) and saves it; the schedule's next run
    /// is computed from now.
    public func updatePolicy(tenant: Tenant, _ change: RotationPolicy.Change, in work: UnitOfWork) async throws -> RotationPolicy {
        var saved = try change.applied(to: try await policy(tenant: tenant))
        saved.nextRunAt = saved.schedule?.next(after: clock.nowMillis)
        work.addDetails([
            "schedule": saved.schedule?.text ?? "", "retain_old_keys": saved.retainOldKeys.map(String.init) ?? "all",
            "auto_reencrypt": String(saved.autoReencrypt),
        ])
        try await jobs.saveRotationPolicy(saved, in: work)
        return saved
    }

    /// Rotates every tenant whose schedule is due (the leader's job, every minute) and starts its
    /// re-encryption when the policy says so. Each run is claimed first, so of several instances only
    /// one rotates. Returns the tenants rotated.
    public func rotateDue() async throws -> [String] {
        let now = clock.nowMillis
        var rotated: [String] = []
        for policy in try await jobs.duePolicies(now: now) {
            guard let due = policy.nextRunAt else { continue }
            let next = policy.schedule?.next(after: now)
            guard try await jobs.claimPolicyRun(tenantID: policy.tenantID, expected: due, ranAt: now, nextRunAt: next) else { continue }
            let rotation = UnitOfWork.system(
                "rotation schedule", tenantID: policy.tenantID, operation: "keyring.rotate", resourceType: "keyring", resourceID: policy.tenantID,
                details: ["trigger": "schedule", "schedule": policy.schedule?.text ?? ""], time: now, audited: audited)
            _ = try await keyring.rotateDataKey(tenantID: policy.tenantID, in: rotation)
            settle(rotation)
            rotated.append(policy.tenantID)
            guard policy.autoReencrypt, let tenant = try await tenants.tenant(id: policy.tenantID) else { continue }
            let start = UnitOfWork.system(
                "rotation schedule", tenantID: tenant.id, operation: "keyring.job.start", resourceType: "keyring_job", time: now, audited: audited)
            do {
                _ = try await self.start(tenant: tenant, options: policy.options, trigger: .schedule, in: start)
                settle(start)
            } catch let error as CofferError where error.code == .jobRunning {
                // The running job moves on to the new version when it reaches its end (see `run`).
            }
        }
        return rotated
    }

    // MARK: - Running (the leader)

    /// Every tenant's running jobs, oldest first.
    public func runningJobs() async throws -> [ReencryptionJob] { try await jobs.runningJobs() }

    /// Runs `job` to its end while `stillLeading()` holds, saving progress after each page; a job
    /// cancelled meanwhile stops after the page in hand. Returns the job as last saved.
    public func run(_ started: ReencryptionJob, stillLeading: @Sendable () async -> Bool) async -> ReencryptionJob {
        var job = started
        do {
            // Resumed: what remains is recounted. Pages that committed after the last progress save count
            // as done (the rows left are fewer than the saved figures say).
            let remaining = try await secrets.countVersionsBelow(tenantID: job.tenantID, keyVersion: job.targetVersion)
            job.done = max(job.done, job.total - remaining)
            job.total = job.done + remaining
            let began = ContinuousClock.now
            var rowsHere = 0
            var quarter = Int(job.percent / 25)
            // A pipeline over separate connections: page N+1 is read while page N is sealed, and page N is
            // written while page N+1 is sealed. Progress is saved once a page's writes committed.
            var ahead: Task<[SealedVersion], any Error>?
            var writing: (task: Task<Int, any Error>, cursor: KVCursor, started: ContinuousClock.Instant)?
            defer {
                ahead?.cancel()
                writing?.task.cancel()
            }
            var saved = ContinuousClock.now
            /// Waits for the page being written and records it; false when the job was cancelled meanwhile.
            /// Progress is saved at most once a second (each save is a commit, and on SQLite an fsync), and
            /// always when `force`d: a stale cursor only makes a resumed job re-read rows it skips.
            func settleWrite(force: Bool = false) async throws -> Bool {
                guard let pending = writing else { return true }
                writing = nil
                let changed = try await pending.task.value
                job.record(rows: changed, millis: Self.millis(pending.started.duration(to: .now)), cursor: pending.cursor, now: clock.nowMillis)
                rowsHere += changed
                guard force || saved.duration(to: .now) >= .seconds(1) else { return true }
                saved = .now
                guard try await jobs.saveProgress(job) else { return false }
                if Int(job.percent / 25) > quarter, job.percent < 100 {
                    quarter = Int(job.percent / 25)
                    await observer(job, .progress)
                }
                return true
            }
            while await stillLeading() {
                let delay = ReencryptionJob.throttleDelay(
                    rowsPerSecond: job.options.rowsPerSecond, rowsSinceStart: rowsHere, elapsedMillis: Self.millis(began.duration(to: .now)))
                if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
                let pageStart = ContinuousClock.now
                let rows: [SealedVersion]
                if let pending = ahead { rows = try await pending.value } else { rows = try await fetch(job, after: writing?.cursor ?? job.cursor) }
                ahead = nil
                if let last = rows.last {
                    if rows.count == job.options.batchSize {
                        let (secrets, next) = (self.secrets, job)
                        ahead = Task {
                            try await secrets.sealedVersions(
                                tenantID: next.tenantID, below: next.targetVersion, after: last.cursor, limit: next.options.batchSize)
                        }
                    }
                    let slices = try await reseal(job, rows)
                    guard try await settleWrite() else { return job }
                    // One transaction per page on a single-writer store (SQLite: one commit, one fsync);
                    // slices in parallel transactions where the store has several connections.
                    let writes = parallelWrites ? slices : [slices.flatMap { $0 }]
                    let (secrets, tenantID, target) = (self.secrets, job.tenantID, job.targetVersion)
                    writing = (
                        Task { try await Self.write(writes, secrets: secrets, tenantID: tenantID, keyVersion: target) }, last.cursor, pageStart
                    )
                    continue
                }
                guard try await settleWrite(force: true) else { return job }
                // No page left below the target: follow a newer rotation, or finish.
                guard let tenant = try await tenants.tenant(id: job.tenantID) else { throw CofferError(.tenantNotFound, "the job's tenant is gone") }
                if tenant.activeKeyVersion > job.targetVersion {
                    job.targetVersion = tenant.activeKeyVersion
                    job.cursor = nil
                    job.total = job.done + (try await secrets.countVersionsBelow(tenantID: job.tenantID, keyVersion: job.targetVersion))
                    guard try await jobs.saveProgress(job) else { return job }
                    continue
                }
                return try await finish(job, tenant: tenant)
            }
            // Leadership lost: the page being written may still commit; its progress is saved if it does.
            _ = try? await settleWrite(force: true)
            return job
        } catch {
            // Stopped from outside (shutdown, or this instance sealed): still running, for the next leader.
            if Task.isCancelled || (error as? CofferError)?.code == .sealed { return job }
            let failure = error as? CofferError ?? CofferError(.internalError, "re-encryption stopped")
            job.state = .failed
            job.error = failure.description
            job.updatedAt = clock.nowMillis
            job.finishedAt = job.updatedAt
            let work = UnitOfWork.system(
                "re-encryption", tenantID: job.tenantID, operation: "keyring.job.failed", resourceType: "keyring_job", resourceID: job.id,
                details: ["done": String(job.done), "error_code": failure.code.rawValue], time: job.updatedAt, audited: audited)
            if (try? await jobs.finishJob(job, in: work)) == true {
                settle(work)
                await observer(job, .failed)
            }
            return job
        }
    }

    /// One page: up to `batchSize` versions after `cursor`.
    func fetch(_ job: ReencryptionJob, after cursor: KVCursor?) async throws -> [SealedVersion] {
        try await secrets.sealedVersions(tenantID: job.tenantID, below: job.targetVersion, after: cursor, limit: job.options.batchSize)
    }

    /// Opens a page's rows and re-seals them under the target key, in `concurrency` slices in parallel.
    /// A row that does not authenticate stops the job (`STORAGE_CORRUPT`, naming the row, never its value).
    func reseal(_ job: ReencryptionJob, _ rows: [SealedVersion]) async throws -> [[BlobReplacement]] {
        let target = try await keyring.dataKey(tenantID: job.tenantID, version: job.targetVersion)
        var keys: [Int: DataKey] = [:]
        for version in Set(rows.map(\.keyVersion)) {
            do {
                keys[version] = try await keyring.dataKey(tenantID: job.tenantID, version: version)
            } catch let error as CofferError where error.code == .keyVersionUnknown {
                throw CofferError(.storageCorrupt, "stored data names data-key version \(version), which this tenant does not hold")
            }
        }
        let sliceSize = max(1, (rows.count + job.options.concurrency - 1) / job.options.concurrency)
        let (tenantID, known) = (job.tenantID, keys)
        return try await withThrowingTaskGroup(of: (Int, [BlobReplacement]).self) { group in
            for start in stride(from: 0, to: rows.count, by: sliceSize) {
                let slice = rows[start..<min(start + sliceSize, rows.count)]
                group.addTask {
                    var replacements: [BlobReplacement] = []
                    replacements.reserveCapacity(slice.count)
                    for row in slice {
                        let aad = AssociatedData.secret(
                            tenantID: tenantID, mount: row.cursor.mount, path: row.cursor.path, version: row.cursor.version)
                        let plaintext: [UInt8]
                        do {
                            plaintext = try SealedBox.open(row.blob, aad: aad) { version throws(CofferError) in
                                guard let key = known[version] else { throw CofferError(.keyVersionUnknown, "unknown data-key version") }
                                return key.key
                            }
                        } catch {
                            throw CofferError(
                                .storageCorrupt, "\(row.cursor.mount)/\(row.cursor.path) version \(row.cursor.version) does not authenticate")
                        }
                        let sealed = try SealedBox.seal(plaintext, key: target.key, keyVersion: target.version, aad: aad)
                        replacements.append(BlobReplacement(cursor: row.cursor, expectedKeyVersion: row.keyVersion, blob: sealed))
                    }
                    return (start, replacements)
                }
            }
            return try await group.reduce(into: [(Int, [BlobReplacement])]()) { $0.append($1) }.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Writes a page's re-sealed slices, one transaction each, in parallel; returns the rows changed.
    static func write(_ slices: [[BlobReplacement]], secrets: any SecretStore, tenantID: String, keyVersion: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for slice in slices { group.addTask { try await secrets.replaceBlobs(tenantID: tenantID, slice, keyVersion: keyVersion) } }
            return try await group.reduce(0, +)
        }
    }

    /// After the KV versions: transit keys and gateway assets, then old keys beyond the policy's
    /// retention that nothing uses; then the job is recorded as completed.
    func finish(_ running: ReencryptionJob, tenant: Tenant) async throws -> ReencryptionJob {
        var job = running
        let maintenance = UnitOfWork.unaudited()
        job.transitKeysResealed += try await transit.resealAll(tenant: tenant, in: maintenance)
        while true {
            let resealed = try await assets.reseal(tenant: tenant, limit: 100, in: maintenance)
            job.assetsResealed += resealed
            if resealed == 0 { break }
        }
        if let retain = try await jobs.rotationPolicy(tenantID: tenant.id)?.retainOldKeys {
            let versions = try await keyringStore.dataKeys(tenantID: tenant.id).map(\.version)
            for version in RotationPolicy.versionsBeyondRetention(versions, active: tenant.activeKeyVersion, retain: retain) {
                let usage = try await keyringStore.keyVersionUsage(tenantID: tenant.id, version: version, limit: 1)
                let destroy = UnitOfWork.system(
                    "re-encryption", tenantID: tenant.id, operation: "keyring.destroy", resourceType: "keyring", resourceID: tenant.id,
                    details: ["job_id": job.id, "retain_old_keys": String(retain)], time: clock.nowMillis, audited: audited)
                if usage.isUnused, try await keyring.destroyDataKey(tenantID: tenant.id, version: version, in: destroy) {
                    settle(destroy)
                    job.destroyedVersions.append(version)
                } else {
                    job.keptVersions.append("\(version): \(usage.isUnused ? "in use" : usage.summary)")
                }
            }
        }
        job.state = .completed
        job.updatedAt = clock.nowMillis
        job.finishedAt = job.updatedAt
        let work = UnitOfWork.system(
            "re-encryption", tenantID: tenant.id, operation: "keyring.job.completed", resourceType: "keyring_job", resourceID: job.id,
            details: [
                "done": String(job.done), "target_version": String(job.targetVersion), "transit_keys_resealed": String(job.transitKeysResealed),
                "assets_resealed": String(job.assetsResealed), "destroyed_versions": job.destroyedVersions.map(String.init).joined(separator: ","),
            ], time: job.updatedAt, audited: audited)
        if try await jobs.finishJob(job, in: work) {
            settle(work)
            await observer(job, .completed)
        }
        return job
    }

    /// Hands a system unit of work's committed entry, if any, to the sinks.
    private func settle(_ work: UnitOfWork) {
        if let entry = work.committedEntry { committed(entry) }
    }

    static func millis(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

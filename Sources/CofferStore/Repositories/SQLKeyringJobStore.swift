import CofferCore

/// Re-encryption jobs and rotation policies (migration 18). Progress saves are compare-and-set on the
/// running state, so a job cancelled through the API stops at its runner's next page.
struct SQLKeyringJobStore: KeyringJobStore {
    let db: WorkDatabase

    static let columns = """
        id, tenant_id, state, started_by, target_version, batch_size, concurrency, rows_per_second, total, done, cursor_mount, cursor_path, \
        cursor_version, transit_resealed, assets_resealed, destroyed_versions, kept_versions, error, rate, created_at, updated_at, finished_at
        """

    func insertJob(_ job: ReencryptionJob, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(job.tenantID)) { tx in
            let running = try await tx.query(
                "SELECT id FROM keyring_jobs WHERE tenant_id = $1 AND state = 'running'", [.text(job.tenantID)]
            ).first.map { try $0.text("id") }
            if let running { throw CofferError(.jobRunning, "re-encryption job \(running) is already running for this tenant") }
            let placeholders = (1...22).map { "$\($0)" }.joined(separator: ", ")
            let added = try await tx.query(
                "INSERT INTO keyring_jobs (\(Self.columns)) VALUES (\(placeholders)) ON CONFLICT (tenant_id) WHERE state = 'running' DO NOTHING RETURNING id",
                Self.binds(job))
            if added.isEmpty { throw CofferError(.jobRunning, "another re-encryption job started for this tenant at the same time") }
        }
    }

    func job(id: String, tenantID: String) async throws -> ReencryptionJob? {
        try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM keyring_jobs WHERE tenant_id = $1 AND id = $2", [.text(tenantID), .text(id)]
        ).first.map(Self.decode)
    }

    func jobs(tenantID: String, limit: Int) async throws -> [ReencryptionJob] {
        try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM keyring_jobs WHERE tenant_id = $1 ORDER BY created_at DESC, id LIMIT $2",
            [.text(tenantID), .int(Int64(limit))]
        ).map(Self.decode)
    }

    func runningJobs() async throws -> [ReencryptionJob] {
        try await db.query(in: .system, "SELECT \(Self.columns) FROM keyring_jobs WHERE state = 'running' ORDER BY created_at, id", []).map(
            Self.decode)
    }

    func saveProgress(_ job: ReencryptionJob) async throws -> Bool {
        !(try await db.transaction(in: .tenant(job.tenantID)) { tx in
            try await tx.query(
                """
                UPDATE keyring_jobs SET total = $3, done = $4, cursor_mount = $5, cursor_path = $6, cursor_version = $7, transit_resealed = $8,
                  assets_resealed = $9, rate = $10, updated_at = $11 WHERE tenant_id = $1 AND id = $2 AND state = 'running' RETURNING id
                """,
                [
                    .text(job.tenantID), .text(job.id), .int(Int64(job.total)), .int(Int64(job.done)), .optional(job.cursor?.mount),
                    .optional(job.cursor?.path), .optional(job.cursor.map { Int64($0.version) }), .int(Int64(job.transitKeysResealed)),
                    .int(Int64(job.assetsResealed)), .int(Int64(job.rate.rounded())), .int(job.updatedAt),
                ])
        }).isEmpty
    }

    func finishJob(_ job: ReencryptionJob, in work: UnitOfWork) async throws -> Bool {
        try await db.transaction(work, in: .tenant(job.tenantID)) { tx in
            let finished =
                !(try await tx.query(
                    """
                    UPDATE keyring_jobs SET state = $3, total = $4, done = $5, transit_resealed = $6, assets_resealed = $7, destroyed_versions = $8,
                      kept_versions = $9, error = $10, rate = $11, updated_at = $12, finished_at = $12
                    WHERE tenant_id = $1 AND id = $2 AND state = 'running' RETURNING id
                    """,
                    [
                        .text(job.tenantID), .text(job.id), .text(job.state.rawValue), .int(Int64(job.total)), .int(Int64(job.done)),
                        .int(Int64(job.transitKeysResealed)), .int(Int64(job.assetsResealed)), Self.list(job.destroyedVersions.map(String.init)),
                        Self.list(job.keptVersions), .optional(job.error), .int(Int64(job.rate.rounded())), .int(job.finishedAt ?? job.updatedAt),
                    ]
                ).isEmpty)
            // Already ended (cancelled meanwhile): nothing changed, nothing to record.
            if !finished { work.disable() }
            return finished
        }
    }

    func rotationPolicy(tenantID: String) async throws -> RotationPolicy? {
        try await db.query(in: .tenant(tenantID), "SELECT * FROM keyring_policies WHERE tenant_id = $1", [.text(tenantID)]).first.map(
            Self.decodePolicy)
    }

    func saveRotationPolicy(_ policy: RotationPolicy, in work: UnitOfWork) async throws {
        try await db.transaction(work, in: .tenant(policy.tenantID)) { tx in
            try await tx.query(
                """
                INSERT INTO keyring_policies (tenant_id, schedule, auto_reencrypt, retain_old_keys, batch_size, concurrency, rows_per_second,
                  next_run_at, last_run_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (tenant_id) DO UPDATE SET schedule = $2, auto_reencrypt = $3, retain_old_keys = $4, batch_size = $5, concurrency = $6,
                  rows_per_second = $7, next_run_at = $8, last_run_at = $9
                """,
                [
                    .text(policy.tenantID), .optional(policy.schedule?.text), .bool(policy.autoReencrypt),
                    .optional(policy.retainOldKeys.map(Int64.init)), .int(Int64(policy.options.batchSize)), .int(Int64(policy.options.concurrency)),
                    .int(Int64(policy.options.rowsPerSecond)), .optional(policy.nextRunAt), .optional(policy.lastRunAt),
                ])
        }
    }

    func duePolicies(now: Int64) async throws -> [RotationPolicy] {
        try await db.query(
            in: .system, "SELECT * FROM keyring_policies WHERE next_run_at IS NOT NULL AND next_run_at <= $1 ORDER BY next_run_at, tenant_id",
            [.int(now)]
        ).map(Self.decodePolicy)
    }

    func claimPolicyRun(tenantID: String, expected: Int64, ranAt: Int64, nextRunAt: Int64?) async throws -> Bool {
        !(try await db.transaction(in: .tenant(tenantID)) { tx in
            try await tx.query(
                "UPDATE keyring_policies SET next_run_at = $3, last_run_at = $4 WHERE tenant_id = $1 AND next_run_at = $2 RETURNING tenant_id",
                [.text(tenantID), .int(expected), .optional(nextRunAt), .int(ranAt)])
        }).isEmpty
    }

    // MARK: - Rows

    static func binds(_ job: ReencryptionJob) -> [SQLValue] {
        [
            .text(job.id), .text(job.tenantID), .text(job.state.rawValue), .text(job.trigger.rawValue), .int(Int64(job.targetVersion)),
            .int(Int64(job.options.batchSize)), .int(Int64(job.options.concurrency)), .int(Int64(job.options.rowsPerSecond)), .int(Int64(job.total)),
            .int(Int64(job.done)), .optional(job.cursor?.mount), .optional(job.cursor?.path), .optional(job.cursor.map { Int64($0.version) }),
            .int(Int64(job.transitKeysResealed)), .int(Int64(job.assetsResealed)), list(job.destroyedVersions.map(String.init)),
            list(job.keptVersions), .optional(job.error), .int(Int64(job.rate.rounded())), .int(job.createdAt), .int(job.updatedAt),
            .optional(job.finishedAt),
        ]
    }

    /// A list of short texts without commas (version numbers, "2: 1 transit key" accounts) as one column.
    static func list(_ items: [String]) -> SQLValue { .text(items.map { $0.replacingOccurrences(of: ";", with: ",") }.joined(separator: ";")) }

    static func decodeList(_ text: String) -> [String] { text.isEmpty ? [] : text.split(separator: ";").map(String.init) }

    static func decode(_ row: SQLRow) throws -> ReencryptionJob {
        guard let trigger = ReencryptionJob.Trigger(rawValue: try row.text("started_by")) else {
            throw CofferError(.storageCorrupt, "a stored re-encryption job has an unknown trigger")
        }
        let options: ReencryptionJob.Options
        do {
            options = try ReencryptionJob.Options(
                batchSize: Int(try row.int("batch_size")), concurrency: Int(try row.int("concurrency")),
                rowsPerSecond: Int(try row.int("rows_per_second")))
        } catch {
            throw CofferError(.storageCorrupt, "a stored re-encryption job has options out of range")
        }
        var cursor: KVCursor?
        if let mount = try row.optionalText("cursor_mount"), let path = try row.optionalText("cursor_path"),
            let version = try row.optionalInt("cursor_version")
        {
            cursor = KVCursor(mount: mount, path: path, version: Int(version))
        }
        var job = ReencryptionJob(
            id: try row.text("id"), tenantID: try row.text("tenant_id"), state: try ReencryptionJob.State(storedState: try row.text("state")),
            trigger: trigger, targetVersion: Int(try row.int("target_version")), options: options, total: Int(try row.int("total")),
            done: Int(try row.int("done")), cursor: cursor, createdAt: try row.int("created_at"), updatedAt: try row.int("updated_at"),
            finishedAt: try row.optionalInt("finished_at"))
        job.transitKeysResealed = Int(try row.int("transit_resealed"))
        job.assetsResealed = Int(try row.int("assets_resealed"))
        job.destroyedVersions = decodeList(try row.text("destroyed_versions")).compactMap { Int($0) }
        job.keptVersions = decodeList(try row.text("kept_versions"))
        job.error = try row.optionalText("error")
        job.rate = Double(try row.int("rate"))
        return job
    }

    static func decodePolicy(_ row: SQLRow) throws -> RotationPolicy {
        do {
            return RotationPolicy(
                tenantID: try row.text("tenant_id"),
                schedule: try row.optionalText("schedule").map { text throws(CofferError) in try CronSchedule(text) },
                autoReencrypt: try row.bool("auto_reencrypt"), retainOldKeys: try row.optionalInt("retain_old_keys").map { Int($0) },
                options: try ReencryptionJob.Options(
                    batchSize: Int(try row.int("batch_size")), concurrency: Int(try row.int("concurrency")),
                    rowsPerSecond: Int(try row.int("rows_per_second"))),
                nextRunAt: try row.optionalInt("next_run_at"), lastRunAt: try row.optionalInt("last_run_at"))
        } catch let error as CofferError where error.code == .invalidRequest {
            throw CofferError(.storageCorrupt, "a stored rotation policy does not parse")
        }
    }
}

/// A tenant's data-key rotation policy (`/v1/sys/keyring/policy`): rotate on a cron schedule (UTC),
/// re-encrypt in the background after each rotation, keep at most `retainOldKeys` older versions —
/// older ones are destroyed only once nothing uses them, checked at the time.
public struct RotationPolicy: Sendable, Equatable {
    /// The tenant.
    public var tenantID: String
    /// When to rotate; nil: never on a schedule.
    public var schedule: CronSchedule?
    /// Start a re-encryption job after each scheduled rotation (and count manual jobs' completion
    /// towards `retainOldKeys`).
    public var autoReencrypt: Bool
    /// Older data-key versions kept after a re-encryption completes; nil keeps them all.
    public var retainOldKeys: Int?
    /// How the scheduled jobs run.
    public var options: ReencryptionJob.Options
    /// When the schedule next rotates (Unix milliseconds); nil without a schedule.
    public var nextRunAt: Int64?
    /// When it last rotated on schedule.
    public var lastRunAt: Int64?

    /// Creates a policy.
    public init(
        tenantID: String, schedule: CronSchedule? = nil, autoReencrypt: Bool = true, retainOldKeys: Int? = nil,
        options: ReencryptionJob.Options, nextRunAt: Int64? = nil, lastRunAt: Int64? = nil
    ) {
        self.tenantID = tenantID
        self.schedule = schedule
        self.autoReencrypt = autoReencrypt
        self.retainOldKeys = retainOldKeys
        self.options = options
        self.nextRunAt = nextRunAt
        self.lastRunAt = lastRunAt
    }

    /// A partial update (`POST /v1/sys/keyring/policy`): only the fields given change. A double optional
    /// tells "not given" (`nil`) from "set to none" (`.some(nil)`: no schedule, keep every version).
    public struct Change: Sendable {
        /// The new schedule, or `.some(nil)` for none.
        public var schedule: CronSchedule??
        /// Start a job after each scheduled rotation.
        public var autoReencrypt: Bool?
        /// Old versions to keep, or `.some(nil)` for all.
        public var retainOldKeys: Int??
        /// Scheduled jobs' page size.
        public var batchSize: Int?
        /// Scheduled jobs' parallel slices.
        public var concurrency: Int?
        /// Scheduled jobs' rows-per-second limit.
        public var rowsPerSecond: Int?

        /// Creates a change.
        public init(
            schedule: CronSchedule?? = nil, autoReencrypt: Bool? = nil, retainOldKeys: Int?? = nil, batchSize: Int? = nil,
            concurrency: Int? = nil, rowsPerSecond: Int? = nil
        ) {
            self.schedule = schedule
            self.autoReencrypt = autoReencrypt
            self.retainOldKeys = retainOldKeys
            self.batchSize = batchSize
            self.concurrency = concurrency
            self.rowsPerSecond = rowsPerSecond
        }

        /// `policy` with this change; `INVALID_REQUEST` for a value out of range.
        public func applied(to policy: RotationPolicy) throws(CofferError) -> RotationPolicy {
            var changed = policy
            if let schedule { changed.schedule = schedule }
            if let autoReencrypt { changed.autoReencrypt = autoReencrypt }
            if let retainOldKeys {
                if let retain = retainOldKeys, !(0...RotationPolicy.maximumRetained).contains(retain) {
                    throw CofferError(.invalidRequest, "retain_old_keys must be 0-\(RotationPolicy.maximumRetained), or -1 or null for all")
                }
                changed.retainOldKeys = retainOldKeys
            }
            changed.options = try ReencryptionJob.Options(
                batchSize: batchSize ?? policy.options.batchSize, concurrency: concurrency ?? policy.options.concurrency,
                rowsPerSecond: rowsPerSecond ?? policy.options.rowsPerSecond)
            return changed
        }
    }

    /// Most old versions `retain_old_keys` may keep.
    public static let maximumRetained = 1000

    /// The versions to destroy: of `versions` (all the tenant's), those below `active` beyond the
    /// newest `retain` of them. Empty without a limit.
    public static func versionsBeyondRetention(_ versions: [Int], active: Int, retain: Int?) -> [Int] {
        guard let retain else { return [] }
        let older = versions.filter { $0 < active }.sorted(by: >)
        return Array(older.dropFirst(max(0, retain))).sorted()
    }
}

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

/// A tenant's background re-encryption: moves every KV version still sealed under an older data key
/// onto `targetVersion` in pages, then re-seals transit keys and gateway assets, then (when the
/// tenant's rotation policy retains fewer) destroys old data keys nothing uses any more. Persisted
/// after every page, so a restarted or newly elected leader continues where the last one stopped.
public struct ReencryptionJob: Sendable, Equatable {
    /// Where a job is. Anything else read from storage fails closed (``init(storedState:)``).
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for the leader, or being run by it.
        case running
        /// Everything below the target version was re-encrypted.
        case completed
        /// Stopped by an error (kept in ``error``); start a new job to retry.
        case failed
        /// Stopped by an operator.
        case cancelled

        /// A state read from storage; `STORAGE_CORRUPT` for anything this version does not know.
        public init(storedState text: String) throws(CofferError) {
            guard let state = State(rawValue: text) else { throw CofferError(.storageCorrupt, "a stored re-encryption job has an unknown state") }
            self = state
        }
    }

    /// What started a job.
    public enum Trigger: String, Sendable {
        /// `POST /v1/sys/keyring/jobs` (or `coffer keyring reencrypt`).
        case manual
        /// The tenant's rotation schedule.
        case schedule
    }

    /// How a job runs.
    public struct Options: Sendable, Equatable {
        /// KV versions read per page (1-10,000).
        public var batchSize: Int
        /// Pages' rows are split into this many slices sealed and written in parallel (1-16).
        public var concurrency: Int
        /// At most this many rows per second (0: as fast as it goes).
        public var rowsPerSecond: Int

        /// Checked options; `INVALID_REQUEST` outside the ranges.
        public init(batchSize: Int = 1000, concurrency: Int = 4, rowsPerSecond: Int = 0) throws(CofferError) {
            guard (1...10_000).contains(batchSize) else { throw CofferError(.invalidRequest, "batch_size must be 1-10000") }
            guard (1...16).contains(concurrency) else { throw CofferError(.invalidRequest, "concurrency must be 1-16") }
            guard (0...10_000_000).contains(rowsPerSecond) else { throw CofferError(.invalidRequest, "throttle must be 0-10000000 rows per second") }
            self.batchSize = batchSize
            self.concurrency = concurrency
            self.rowsPerSecond = rowsPerSecond
        }
    }

    /// The job's id (`rej_` and 32 hex digits).
    public var id: String
    /// Its tenant.
    public var tenantID: String
    /// Where it is.
    public var state: State
    /// What started it.
    public var trigger: Trigger
    /// The data-key version everything is moved to (the active one when the job started).
    public var targetVersion: Int
    /// How it runs.
    public var options: Options
    /// Rows that needed re-encryption when it started (or resumed).
    public var total: Int
    /// Rows re-encrypted so far.
    public var done: Int
    /// The last KV version handled, in the order pages are read (mount, path, version).
    public var cursor: KVCursor?
    /// Transit keys re-sealed.
    public var transitKeysResealed = 0
    /// Gateway assets re-sealed.
    public var assetsResealed = 0
    /// Data-key versions destroyed when it completed (rotation policy `retain_old_keys`).
    public var destroyedVersions: [Int] = []
    /// Old versions kept because something still uses them, with what (`"2: 1 managed gateway key"`).
    public var keptVersions: [String] = []
    /// Why it failed (a Coffer error's code and message; never data).
    public var error: String?
    /// Rows per second over the recent pages (0 before the first).
    public var rate: Double = 0
    /// When it was created, last saved and ended (Unix milliseconds).
    public var createdAt: Int64
    /// Last progress save.
    public var updatedAt: Int64
    /// When it ended.
    public var finishedAt: Int64?

    /// Creates a job.
    public init(
        id: String, tenantID: String, state: State = .running, trigger: Trigger, targetVersion: Int, options: Options, total: Int, done: Int = 0,
        cursor: KVCursor? = nil, createdAt: Int64, updatedAt: Int64? = nil, finishedAt: Int64? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.state = state
        self.trigger = trigger
        self.targetVersion = targetVersion
        self.options = options
        self.total = total
        self.done = done
        self.cursor = cursor
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.finishedAt = finishedAt
    }

    /// A fresh job id.
    public static func newID() -> String { "rej_" + SecureRandom.bytes(16).hexString }

    /// Whether `text` has the shape of a job id (checked before any lookup).
    public static func isValidID(_ text: String) -> Bool {
        text.utf8.count == 36 && text.hasPrefix("rej_")
            && text.utf8.dropFirst(4).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Percent done (0-100); 100 once completed.
    public var percent: Double {
        if state == .completed { return 100 }
        guard total > 0 else { return 0 }
        return min(100, Double(done) * 100 / Double(total))
    }

    /// Seconds left at the current rate; nil while unknown or once ended.
    public var etaSeconds: Double? {
        guard state == .running, rate > 0 else { return nil }
        return Double(max(0, total - done)) / rate
    }

    /// Counts a page: `rows` re-encrypted in `millis`, the cursor moved to `cursor`. The rate is a moving
    /// average weighting the newest page by a quarter, so one slow page does not swing the ETA.
    public mutating func record(rows: Int, millis: Int64, cursor: KVCursor?, now: Int64) {
        done += rows
        if done > total { total = done }
        self.cursor = cursor
        updatedAt = now
        guard rows > 0 else { return }
        let pageRate = Double(rows) * 1000 / Double(max(millis, 1))
        rate = rate == 0 ? pageRate : rate * 0.75 + pageRate * 0.25
    }

    /// How long to wait before the next page so that `done` rows since `startedAt` stay within the
    /// throttle (milliseconds; 0 without a throttle).
    public static func throttleDelay(rowsPerSecond: Int, rowsSinceStart: Int, elapsedMillis: Int64) -> Int64 {
        guard rowsPerSecond > 0 else { return 0 }
        let due = Int64(rowsSinceStart) * 1000 / Int64(rowsPerSecond)
        return max(0, due - elapsedMillis)
    }
}

/// A position in the order KV versions are re-encrypted: mount, path, version.
public struct KVCursor: Sendable, Hashable, Codable {
    /// The mount.
    public var mount: String
    /// The path.
    public var path: String
    /// The version.
    public var version: Int

    /// Creates a cursor.
    public init(mount: String, path: String, version: Int) {
        self.mount = mount
        self.path = path
        self.version = version
    }
}

/// One KV version to re-encrypt, as read for a page.
public struct SealedVersion: Sendable {
    /// Where it is.
    public var cursor: KVCursor
    /// The data-key version it is sealed under.
    public var keyVersion: Int
    /// Its sealed value.
    public var blob: [UInt8]

    /// Creates a row.
    public init(cursor: KVCursor, keyVersion: Int, blob: [UInt8]) {
        self.cursor = cursor
        self.keyVersion = keyVersion
        self.blob = blob
    }
}

/// A re-sealed KV version, written only if the row is still sealed under `expectedKeyVersion`.
public struct BlobReplacement: Sendable {
    /// Where it is.
    public var cursor: KVCursor
    /// The key version read with the old blob.
    public var expectedKeyVersion: Int
    /// The new blob.
    public var blob: [UInt8]

    /// Creates a replacement.
    public init(cursor: KVCursor, expectedKeyVersion: Int, blob: [UInt8]) {
        self.cursor = cursor
        self.expectedKeyVersion = expectedKeyVersion
        self.blob = blob
    }
}

/// What still uses one data-key version of a tenant (`coffer keyring audit --key-version N`).
public struct KeyVersionUsage: Sendable, Equatable {
    /// KV versions sealed under it (not destroyed).
    public var kvVersions: Int
    /// The first of them (mount, path, version), up to the asked limit.
    public var kvSample: [KVCursor]
    /// Transit keys sealed under it.
    public var transitKeys: [String]
    /// Gateway assets sealed under it (`project/name`).
    public var assets: [String]
    /// Gateway projects whose managed key is sealed under it.
    public var managedKeys: [String]
    /// Wrapped responses sealed under it (they expire within their TTL).
    public var wrappedResponses: Int

    /// Creates a usage report.
    public init(kvVersions: Int, kvSample: [KVCursor], transitKeys: [String], assets: [String], managedKeys: [String], wrappedResponses: Int) {
        self.kvVersions = kvVersions
        self.kvSample = kvSample
        self.transitKeys = transitKeys
        self.assets = assets
        self.managedKeys = managedKeys
        self.wrappedResponses = wrappedResponses
    }

    /// Whether nothing uses the version.
    public var isUnused: Bool { kvVersions == 0 && transitKeys.isEmpty && assets.isEmpty && managedKeys.isEmpty && wrappedResponses == 0 }

    /// A short account of what uses it, counts only (`"3 KV versions, 1 transit key"`).
    public var summary: String {
        var parts: [String] = []
        func add(_ count: Int, _ noun: String) { if count > 0 { parts.append("\(count) \(noun)\(count == 1 ? "" : "s")") } }
        add(kvVersions, "KV version")
        add(transitKeys.count, "transit key")
        add(assets.count, "gateway asset")
        add(managedKeys.count, "managed gateway key")
        add(wrappedResponses, "wrapped response")
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }
}

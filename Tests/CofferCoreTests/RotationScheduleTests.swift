import Testing

@testable import CofferCore

/// The cron schedule, the throttle, retention and job progress: pure values, no clock or storage.
@Suite struct RotationScheduleTests {
    /// Unix milliseconds of a UTC date and time.
    static func at(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
        (CivilDate.days(year: year, month: month, day: day) * 1440 + Int64(hour * 60 + minute)) * 60_000
    }

    @Test(arguments: [
        // Fluxbase's example: the 1st of each month at 02:00.
        ("0 2 1 * *", at(2026, 9, 21, 14, 13), at(2026, 10, 1, 2, 0)),
        ("0 2 1 * *", at(2026, 12, 1, 2, 0), at(2027, 1, 1, 2, 0)),
        ("*/15 * * * *", at(2026, 1, 1, 0, 14), at(2026, 1, 1, 0, 15)),
        ("*/15 * * * *", at(2026, 1, 1, 23, 59), at(2026, 1, 2, 0, 0)),
        ("30 4 * * mon-fri", at(2026, 11, 28, 12, 0), at(2026, 11, 30, 4, 30)),  // Saturday → Monday
        ("0 0 29 2 *", at(2026, 3, 1), at(2028, 2, 29)),  // the next leap day
        ("0 12 13 * 5", at(2026, 11, 1), at(2026, 11, 6, 12, 0)),  // day 13 OR a Friday: Friday the 6th first
        ("@weekly", at(2026, 11, 30, 12, 0), at(2026, 12, 6)),  // Sundays (0 or 7)
        ("0 0 * * 7", at(2026, 11, 30, 12, 0), at(2026, 12, 6)),
        ("@yearly", at(2026, 6, 1), at(2027, 1, 1)),
        ("5-10/5 1 * jan,JUL *", at(2026, 2, 1), at(2026, 7, 1, 1, 5)),
        ("10/20 * * * *", at(2026, 1, 1, 0, 31), at(2026, 1, 1, 0, 50)),
    ])
    func nextRunsAreWhereCronPutsThem(schedule: String, after: Int64, expected: Int64) throws {
        #expect(try CronSchedule(schedule).next(after: after) == expected)
    }

    @Test(arguments: [
        "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
        "5-1 * * * *", "1,,2 * * * *", "a * * * *", "1-2-3 * * * *", "*/1/2 * * * *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "@reboot", "-1 * * * *",
        "999 * * * *",
    ])
    func malformedOrNeverRunningSchedulesAreRefused(schedule: String) {
        #expect(throws: CofferError.self) { try CronSchedule(schedule) }
        do {
            _ = try CronSchedule(schedule)
        } catch {
            #expect(error.code == .invalidRequest)
            #expect(schedule.isEmpty || !error.message.contains(schedule))
        }
    }

    @Test func civilDatesRoundTrip() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (y, m, d) = CivilDate.fromDays(days)
            #expect(CivilDate.days(year: y, month: m, day: d) == days)
        }
        #expect(CivilDate.fromDays(0) == (1970, 1, 1))
        #expect(CivilDate.days(year: 2000, month: 3, day: 1) == 11_017)
    }

    @Test func theThrottleSpacesPagesToTheRate() {
        #expect(ReencryptionJob.throttleDelay(rowsPerSecond: 0, rowsSinceStart: 1_000_000, elapsedMillis: 0) == 0)
        #expect(ReencryptionJob.throttleDelay(rowsPerSecond: 1000, rowsSinceStart: 500, elapsedMillis: 100) == 400)
        #expect(ReencryptionJob.throttleDelay(rowsPerSecond: 1000, rowsSinceStart: 500, elapsedMillis: 900) == 0)
        #expect(ReencryptionJob.throttleDelay(rowsPerSecond: 10_000_000, rowsSinceStart: Int.max / 2000, elapsedMillis: 0) >= 0)
    }

    @Test func retentionKeepsTheNewestOldVersionsOnly() {
        #expect(RotationPolicy.versionsBeyondRetention([1, 2, 3, 4, 5], active: 5, retain: 2) == [1, 2])
        #expect(RotationPolicy.versionsBeyondRetention([1, 2, 3, 4, 5], active: 5, retain: 0) == [1, 2, 3, 4])
        #expect(RotationPolicy.versionsBeyondRetention([1, 2, 3, 4, 5], active: 5, retain: nil) == [])
        #expect(RotationPolicy.versionsBeyondRetention([1, 2, 3, 4, 5], active: 3, retain: 0) == [1, 2])  // after a rollback: never newer ones
        #expect(RotationPolicy.versionsBeyondRetention([4], active: 4, retain: 0) == [])
    }

    @Test func progressRateAndEtaFollowThePages() throws {
        var job = ReencryptionJob(
            id: ReencryptionJob.newID(), tenantID: "t", trigger: .manual, targetVersion: 2, options: try .init(), total: 1000, createdAt: 0)
        #expect(ReencryptionJob.isValidID(job.id))
        #expect(job.etaSeconds == nil)
        job.record(rows: 100, millis: 100, cursor: KVCursor(mount: "secret", path: "a", version: 1), now: 10)
        #expect(job.rate == 1000)
        #expect(job.percent == 10)
        #expect(job.etaSeconds == 0.9)
        job.record(rows: 100, millis: 1000, cursor: nil, now: 20)
        #expect(job.rate == 775)  // a quarter of the newest page's 100/s
        job.state = .completed
        #expect(job.percent == 100 && job.etaSeconds == nil)
        #expect(throws: CofferError.self) { try ReencryptionJob.State(storedState: "paused") }
        #expect(throws: CofferError.self) { try ReencryptionJob.Options(batchSize: 0) }
        #expect(throws: CofferError.self) { try ReencryptionJob.Options(concurrency: 0) }
        #expect(throws: CofferError.self) { try ReencryptionJob.Options(rowsPerSecond: -5) }
    }
}

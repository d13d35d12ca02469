import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`, in UTC), as crontab(5)
/// reads it: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, comma lists, three-letter month
/// and day names, Sunday as 0 or 7, and the macros `@hourly`, `@daily`, `@weekly`, `@monthly`,
/// `@yearly` (`@annually`). When both day fields are restricted a day matching either runs (Vixie
/// cron's rule). Schedules that never run (`0 0 30 2 *`) are refused when parsed.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// The text the schedule was parsed from, trimmed.
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    /// Longest schedule text accepted.
    public static let maximumLength = 200

    /// Parses `text`; `INVALID_REQUEST` saying which field is wrong (the text is never repeated).
    public init(_ text: String) throws(CofferError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.utf8.count <= Self.maximumLength else {
            throw CofferError(.invalidRequest, "a schedule is at most \(Self.maximumLength) characters")
        }
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CofferError(.invalidRequest, "a schedule has five fields: minute hour day-of-month month day-of-week (or @daily, @monthly…)")
        }
        self.text = trimmed
        minutes = try Self.field(fields[0], "minute", 0...59, names: [:])
        hours = try Self.field(fields[1], "hour", 0...23, names: [:])
        days = try Self.field(fields[2], "day-of-month", 1...31, names: [:])
        months = try Self.field(fields[3], "month", 1...12, names: Self.monthNames)
        var weekdays = try Self.field(fields[4], "day-of-week", 0...7, names: Self.dayNames)
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        self.weekdays = weekdays
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        guard next(after: 0) != nil else { throw CofferError(.invalidRequest, "this schedule never runs") }
    }

    /// The text.
    public var description: String { text }

    /// The first time (Unix milliseconds, on a whole minute) strictly after `millis` when the schedule
    /// runs; nil if none within about eight years (which, after parsing, cannot happen).
    public func next(after millis: Int64) -> Int64? {
        guard millis >= 0, millis < 253_402_300_799_000 else { return nil }
        var minute = millis / 60_000 + 1
        // Each step moves to the start of the next candidate month, day, hour or minute; eight years of
        // days and their hours bound the walk.
        for _ in 0..<(8 * 366 * 30) {
            let days = minute / 1440
            let (year, month, day) = CivilDate.fromDays(days)
            if !months.contains(month) {
                let (nextYear, nextMonth) = month == 12 ? (year + 1, 1) : (year, month + 1)
                minute = CivilDate.days(year: nextYear, month: nextMonth, day: 1) * 1440
                continue
            }
            if !dayMatches(days: days, day: day) {
                minute = (days + 1) * 1440
                continue
            }
            let hour = Int(minute % 1440 / 60)
            if !hours.contains(hour) {
                minute = minute - minute % 60 + 60
                continue
            }
            if !minutes.contains(Int(minute % 60)) {
                minute += 1
                continue
            }
            return minute * 60_000
        }
        return nil
    }

    private func dayMatches(days: Int64, day: Int) -> Bool {
        // 1970-01-01 was a Thursday (4).
        let weekday = Int(((days % 7) + 7 + 4) % 7)
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return self.days.contains(day) || weekdays.contains(weekday)
        case (true, false): return self.days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }

    static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    ]
    static let dayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]

    static func field(_ text: String, _ name: String, _ bounds: ClosedRange<Int>, names: [String: Int]) throws(CofferError) -> Set<Int> {
        let wrong = CofferError(.invalidRequest, "the schedule's \(name) field is not valid (\(bounds.lowerBound)-\(bounds.upperBound))")
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw wrong }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Self.number(pieces[1], names: [:]), parsed >= 1, parsed <= bounds.upperBound else { throw wrong }
                step = parsed
            }
            let range: ClosedRange<Int>
            if pieces[0] == "*" {
                range = bounds
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2, let low = Self.number(ends[0], names: names), bounds.contains(low) else { throw wrong }
                if ends.count == 2 {
                    guard let high = Self.number(ends[1], names: names), bounds.contains(high), low <= high else { throw wrong }
                    range = low...high
                } else {
                    // `a/n` runs from a to the field's end, as in Vixie cron.
                    range = pieces.count == 2 ? low...bounds.upperBound : low...low
                }
            }
            for value in stride(from: range.lowerBound, through: range.upperBound, by: step) { values.insert(value) }
        }
        guard !values.isEmpty else { throw wrong }
        return values
    }

    static func number(_ text: Substring, names: [String: Int]) -> Int? {
        if let named = names[text.lowercased()] { return named }
        guard (1...2).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }
}

/// Days since 1970-01-01 to and from proleptic Gregorian dates (Howard Hinnant's algorithms).
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func fromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

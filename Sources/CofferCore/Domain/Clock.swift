import Foundation
import Synchronization

/// Wall-clock time in milliseconds since the Unix epoch, injectable so tests control time.
public protocol CofferClock: Sendable {
    /// The current time in milliseconds since 1970-01-01T00:00:00Z.
    var nowMillis: Int64 { get }
}

/// The system wall clock.
public struct SystemClock: CofferClock {
    /// Creates the system clock.
    public init() {}
    /// The current time in milliseconds.
    public var nowMillis: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// A clock that moves only when told to; for tests.
public final class ManualClock: CofferClock {
    private let value: Mutex<Int64>
    /// Starts at `millis`.
    public init(millis: Int64 = 1_700_000_000_000) { value = Mutex(millis) }
    /// The current manual time.
    public var nowMillis: Int64 { value.withLock { $0 } }
    /// Moves time forward by `millis`.
    public func advance(millis: Int64) { value.withLock { $0 += millis } }
}

/// Formats timestamps as RFC 3339 with fractional seconds in UTC, as Vault does.
public enum Timestamp {
    /// A whole number of seconds as Go prints a duration, which Vault answers (`0s`, `45s`, `1m30s`, `1h0m0s`).
    public static func goDuration(_ seconds: Int64) -> String {
        guard seconds > 0 else { return "0s" }
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        let rest = seconds % 60
        if hours > 0 { return "\(hours)h\(minutes)m\(rest)s" }
        if minutes > 0 { return "\(minutes)m\(rest)s" }
        return "\(rest)s"
    }

    /// RFC 3339 with milliseconds, e.g. `2026-11-24T06:42:00.123Z`.
    public static func rfc3339(_ millis: Int64) -> String {
        // Floor division (no overflow at the extremes), so an instant before 1970 keeps a fraction in 0...999.
        var (whole, part) = millis.quotientAndRemainder(dividingBy: 1000)
        if part < 0 {
            whole -= 1
            part += 1000
        }
        let seconds = Int(whole)
        let fraction = Int(part)
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        // Digits written directly: `String(format:)` went through CoreFoundation's formatter and cost
        // 3% of a KV read's CPU (perf, Benchmarks/hotpaths/results.md).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        // At least `width` digits, more if the value has them (a year past 9999 is written whole, as
        // `%04d` did, never cut); only years can be negative, and then get a sign.
        func digits(_ value: Int, _ width: Int) {
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            var rest = value.magnitude
            var count = 1
            var divisor: UInt = 1
            while count < width || rest / divisor >= 10 {
                divisor *= 10
                count += 1
            }
            for _ in 0..<count {
                bytes.append(UInt8(ascii: "0") + UInt8((rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses RFC 3339 (`2026-11-24T06:42:00Z`, fractions optional) or a millisecond count; `nil` if
    /// malformed or outside years 1970-9999.
    public static func parse(_ text: String) -> Int64? {
        guard let millis = parseUnbounded(text), (0...latestMillis).contains(millis) else { return nil }
        return millis
    }

    /// The last millisecond of year 9999, the latest time RFC 3339 can write.
    public static let latestMillis: Int64 = 253_402_300_799_999

    private static func parseUnbounded(_ text: String) -> Int64? {
        if let millis = Int64(text) { return millis }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        if text.count == 10, let date = formatter.date(from: text + "T00:00:00Z") { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }

    /// The longest duration any parameter accepts: 100 years, in seconds. Every duration a client
    /// sends is checked against it, so `now + duration * 1000` can never overflow.
    public static let maximumDurationSeconds: Int64 = 100 * 365 * 86_400

    /// Parses a duration like `30s`, `15m`, `24h`, `7d` or plain seconds, into seconds; `nil` if
    /// malformed, negative or longer than ``maximumDurationSeconds`` (never a trap on overflow).
    public static func parseDuration(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last else { return nil }
        let multipliers: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let digits = multipliers[unit] == nil ? Substring(trimmed) : trimmed.dropLast()
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int64(digits) else { return nil }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: multipliers[unit] ?? 1)
        guard !overflow, seconds <= maximumDurationSeconds else { return nil }
        return seconds
    }
}

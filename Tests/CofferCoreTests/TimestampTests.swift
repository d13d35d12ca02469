import CofferCore
import Foundation
import Testing

/// `Timestamp.rfc3339` writes its digits by hand; these pin it to fixed values and to Foundation's
/// own formatter over the whole range RFC 3339 can write.
@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_000, "1970-01-01T00:00:01.000Z"), (1_764_480_600_007, "2025-11-30T05:30:00.007Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"), (Timestamp.latestMillis, "9999-12-31T23:59:59.999Z"),
        // Past the RFC 3339 range the year is written whole (as `%04d` did), never cut to four digits.
        (Timestamp.latestMillis + 1, "10000-01-01T00:00:00.000Z"),
        // Before 1970: floor division keeps the fraction positive.
        (-1, "1969-12-31T23:59:59.999Z"),
    ])
    func fixedValues(millis: Int64, expected: String) {
        #expect(Timestamp.rfc3339(millis) == expected)
    }

    @Test func agreesWithFoundationAndParsesBack() {
        // Whole seconds from Foundation (no floating-point fraction to round), the fraction from the input.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let millis = Int64.random(in: 0...Timestamp.latestMillis, using: &generator)
            let written = Timestamp.rfc3339(millis)
            let seconds = formatter.string(from: Date(timeIntervalSince1970: Double(millis / 1000))).dropLast()  // without "Z"
            let fraction = String(millis % 1000 + 1000).dropFirst()
            #expect(written == "\(seconds).\(fraction)Z", "\(millis)")
            #expect(Timestamp.parse(written) == millis)
        }
    }
}

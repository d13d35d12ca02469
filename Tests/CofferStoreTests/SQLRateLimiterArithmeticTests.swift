import Testing

@testable import CofferStore

@Suite("Shared rate-limit arithmetic")
struct SQLRateLimiterArithmeticTests {
    /// A lease of a year-long limit of 10⁹: period × 1000 × units is about 3 × 10¹⁹, beyond 64 bits; the
    /// full-width product gives the exact share instead of trapping the server.
    @Test func leaseCostsOfLongPeriodsDoNotOverflow() {
        let year: Int64 = 31_536_000_000
        #expect(SQLRateLimiter.micros(year, units: 1_000_000, limit: 1_000_000_000) == year)
        #expect(SQLRateLimiter.micros(60_000, units: 1, limit: 10) == 6_000_000)
        #expect(SQLRateLimiter.micros(60_000, units: 50, limit: 10) == 60_000_000, "units capped at the limit")
        #expect(SQLRateLimiter.micros(60_000, units: -5, limit: 10) == 0)
    }
}

import Foundation
import Testing

@testable import CofferCore

@Suite("API key primitives: format, scopes, CIDR, rate limits")
struct APIKeyPrimitivesTests {
    @Test func crc32KnownAnswer() {
        #expect(CRC32.checksum("123456789".utf8) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
    }

    @Test(arguments: APIKeyFormat.Kind.allCases)
    func generatedKeysCheckAndMatchThePattern(kind: APIKeyFormat.Kind) throws {
        let key = APIKeyFormat.generate(kind)
        #expect(key.hasPrefix(kind.prefix))
        #expect(key.count == kind.prefix.count + 43 + 6)
        #expect(try APIKeyFormat.check(key).get() == kind)
        let pattern = kind.isPublishable ? APIKeyFormat.publishablePattern : APIKeyFormat.pattern
        #expect(key.range(of: pattern, options: .regularExpression) != nil)
        let other = kind.isPublishable ? APIKeyFormat.pattern : APIKeyFormat.publishablePattern
        #expect(key.range(of: other, options: .regularExpression) == nil)
        #expect(APIKeyFormat.displayPrefix(key) == kind.prefix + key.dropFirst(kind.prefix.count).prefix(4) + "…")
        #expect(APIKeyFormat.generate(kind) != key)
    }

    @Test func mistypedOrFakeKeysAreRejectedOffline() throws {
        let key = APIKeyFormat.generate(.live)
        var chars = Array(key)
        let index = 12
        chars[index] = chars[index] == "a" ? "b" : "a"
        #expect(APIKeyFormat.check(String(chars)) == .failure(.init(problem: .badChecksum)), "one changed character")
        #expect(APIKeyFormat.check(key.replacingOccurrences(of: "sk_live_", with: "sk_test_")) == .failure(.init(problem: .badChecksum)))
        #expect(APIKeyFormat.check("pk_live_" + key.dropFirst(8)) == .failure(.init(problem: .badChecksum)), "a secret key relabelled as publishable")
        #expect(APIKeyFormat.check("xk_live_" + key.dropFirst(8)) == .failure(.init(problem: .unknownPrefix)))
        #expect(APIKeyFormat.Kind.publishable(for: .production) == .publishableLive)
        #expect(APIKeyFormat.Kind.publishable(for: .staging) == .publishableTest)
        #expect(APIKeyFormat.check(String(key.dropLast())) == .failure(.init(problem: .badShape)))
        #expect(APIKeyFormat.check(String(key.dropLast()) + "!") == .failure(.init(problem: .badShape)))
        #expect(APIKeyFormat.check("sk_live_") == .failure(.init(problem: .badShape)))
        #expect(APIKeyFormat.Kind.forTenant(.production, admin: false) == .live)
        #expect(APIKeyFormat.Kind.forTenant(.staging, admin: false) == .test)
        #expect(APIKeyFormat.Kind.forTenant(.development, admin: true) == .admin)
    }

    @Test(
        arguments: [
            ("kv:read:payments/*", "kv", "read", "payments/card", true), ("kv:read:payments/*", "kv", "read", "pay", false),
            ("kv:read:payments/*", "kv", "write", "payments/card", false), ("kv:read:app/db", "kv", "read", "app/db", true),
            ("kv:read:app/db", "kv", "read", "app/db2", false), ("kv:*", "kv", "write", "anything", true),
            ("keys:verify", "keys", "verify", nil, true), ("audit:read", "kv", "read", "x", false),
            ("transit:encrypt:orders", "transit", "encrypt", "orders", true), ("transit:encrypt:orders", "transit", "decrypt", "orders", false),
        ] as [(String, String, String, String?, Bool)])
    func scopeMatching(scope: String, resource: String, action: String, target: String?, allowed: Bool) throws {
        let parsed = try #require(Scope(scope))
        #expect(parsed.allows(resource: resource, action: action, target: target) == allowed)
        #expect(parsed.description == scope)
    }

    @Test(arguments: ["", "kv", "kv:", ":read", "KV:read", "kv:read:", "kv:read:a*b", "kv:read:a b", "kv:re ad", "kv:read:x:y:z*z"])
    func malformedScopesAreRejected(text: String) {
        #expect(Scope(text) == nil)
    }

    @Test(arguments: [
        ("10.0.0.0/24", "10.0.0.77", true), ("10.0.0.0/24", "10.0.1.1", false), ("10.0.0.5", "10.0.0.5", true), ("10.0.0.5", "10.0.0.6", false),
        ("0.0.0.0/0", "203.0.113.9", true), ("192.168.1.100/32", "::ffff:192.168.1.100", true), ("2001:db8::/32", "2001:db8:1::5", true),
        ("2001:db8::/32", "2001:db9::1", false), ("2001:db8::/32", "10.0.0.1", false), ("10.0.0.0/8", "2001:db8::1", false),
        ("10.1.2.3/8", "10.200.0.1", true), ("::1", "::1", true), ("10.0.0.0/24", "not-an-ip", false),
    ])
    func cidrMembership(network: String, address: String, inside: Bool) throws {
        #expect(try #require(CIDR(network)).contains(address) == inside)
    }

    @Test func cidrParsingAndNormalisation() {
        #expect(CIDR("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(CIDR("2001:db8::ff/120")?.description == "2001:db8::/120")
        for bad in ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0/24", "300.0.0.1", "2001:db8::/129", "10.0.0.0/24/1", "", "host"] {
            #expect(CIDR(bad) == nil, "\(bad)")
        }
    }

    @Test func gcraAllowsABurstThenPacesRequests() {
        var limiter = GCRA(limit: 3, periodMillis: 3_000)
        let decisions = (0..<4).map { _ in limiter.check(now: 10_000) }
        #expect(decisions.map(\.allowed) == [true, true, true, false])
        #expect(decisions.map(\.remaining) == [2, 1, 0, 0])
        #expect(decisions[3].retryAfterMillis == 1_000)
        #expect(!limiter.check(now: 10_999).allowed)
        #expect(limiter.check(now: 11_000).allowed, "one interval later, one more request")
        #expect(!limiter.check(now: 11_000).allowed)
        let later = limiter.check(now: 20_000)
        #expect(later.allowed && later.remaining == 2, "a full period of silence refills the bucket")
    }

    @Test func gcraHandlesUnevenIntervalsCostAndClockSkew() {
        var seven = GCRA(limit: 7, periodMillis: 1_000)
        #expect((0..<7).allSatisfy { _ in seven.check(now: 0).allowed }, "7 per second allows a burst of exactly 7")
        #expect(!seven.check(now: 0).allowed)
        var weighted = GCRA(limit: 10, periodMillis: 1_000)
        #expect(weighted.check(now: 0, cost: 8).allowed)
        #expect(!weighted.check(now: 0, cost: 3).allowed)
        #expect(weighted.check(now: 0, cost: 2).remaining == 0)
        var small = GCRA(limit: 5, periodMillis: 1_000)
        #expect(!small.check(now: 0, cost: 6).allowed, "a cost above the limit never passes")
        var skewed = GCRA(limit: 2, periodMillis: 1_000)
        _ = skewed.check(now: 5_000)
        _ = skewed.check(now: 5_000)
        #expect(!skewed.check(now: 4_000).allowed, "a clock stepping back does not refill the bucket")
    }

    @Test func quotaWindowResetsOnTheWindowBoundary() {
        let day: Int64 = 86_400_000
        var quota = QuotaWindow(limit: 3, windowMillis: day)
        #expect(quota.consume(now: day + 10).allowed)
        let second = quota.consume(now: day + 20, cost: 2)
        #expect(second.allowed && second.remaining == 0 && second.resetMillis == day - 20)
        #expect(!quota.consume(now: 2 * day - 1).allowed)
        let next = quota.consume(now: 2 * day)
        #expect(next.allowed && next.remaining == 2)
    }
}

@Suite("Memory rate limiter")
struct MemoryRateLimiterTests {
    @Test func idleBucketsAreSweptAndActiveOnesKept() async throws {
        let limiter = MemoryRateLimiter(sweepThreshold: 10)
        for index in 0..<10 { _ = try await limiter.rate(bucket: "old\(index)", limit: 10, periodMillis: 1_000, cost: 1, now: 0) }
        #expect(limiter.bucketCount == 10)
        for index in 0..<2 { _ = try await limiter.rate(bucket: "new\(index)", limit: 10, periodMillis: 1_000, cost: 1, now: 5_000) }
        #expect(limiter.bucketCount == 2, "the sweep dropped the ten idle buckets")
        let refilled = try await limiter.rate(bucket: "old0", limit: 10, periodMillis: 1_000, cost: 10, now: 5_000)
        #expect(refilled.allowed, "a swept bucket behaves as a full one")
        // A flood of live buckets: sweeps back off instead of running on every request.
        for index in 0..<100 { _ = try await limiter.rate(bucket: "flood\(index)", limit: 1, periodMillis: 60_000, cost: 1, now: 6_000) }
        #expect(limiter.bucketCount >= 100, "live buckets are kept")
        let limited = try await limiter.rate(bucket: "flood0", limit: 1, periodMillis: 60_000, cost: 1, now: 6_000)
        #expect(!limited.allowed, "their state is kept too")
    }
}

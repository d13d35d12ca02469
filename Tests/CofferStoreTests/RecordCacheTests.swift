import CofferTestSupport
import Testing

@testable import CofferStore

/// Concurrent misses of one key share one load, but never across an invalidation.
@Suite("Record cache: shared loads")
struct RecordCacheTests {
    /// A loader that counts its calls and waits until the test opens it.
    final class GatedLoader: Sendable {
        let gate = Gate()
        var calls: Int { gate.arrivals }

        func load(_ value: String) async -> String? {
            await gate.pass()
            return value
        }

        func open() { gate.open() }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<2_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test(.timeLimit(.minutes(1)))
    func concurrentMissesShareOneLoad() async throws {
        let cache = RecordCache<String, String>(capacity: 10)
        let loader = GatedLoader()
        let results = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { await cache.load("k") { await loader.load("v1") } }
            try await Self.waitUntil { loader.calls == 1 }
            for _ in 0..<20 { group.addTask { await cache.load("k") { await loader.load("v-other") } } }
            try await Task.sleep(for: .milliseconds(50))
            #expect(loader.calls == 1, "the later lookups wait for the first load")
            loader.open()
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(results.count == 21 && results.allSatisfy { $0 == "v1" })
        #expect(cache.value("k") == "v1")
    }

    /// A lookup that starts after an invalidation (a revocation committed meanwhile) loads for itself
    /// instead of taking the value the earlier load read; the earlier waiters still get theirs.
    @Test(.timeLimit(.minutes(1)))
    func aLookupAfterAnInvalidationNeverTakesAnEarlierLoad() async throws {
        let cache = RecordCache<String, String>(capacity: 10)
        let before = GatedLoader()
        let after = GatedLoader()
        after.open()
        async let first = cache.load("k") { await before.load("before") }
        try await Self.waitUntil { before.calls == 1 }
        async let joined = cache.load("k") { await before.load("unused") }
        try await Task.sleep(for: .milliseconds(20))
        cache.invalidateAll()
        let late = await cache.load("k") { await after.load("after") }
        #expect(late == "after")
        before.open()
        #expect(await first == "before")
        #expect(await joined == "before", "joined before the invalidation: shares the earlier load")
        #expect(before.calls == 1 && after.calls == 1)
        #expect(cache.value("k") == "after", "the earlier load, read before the invalidation, is not cached")
    }
}

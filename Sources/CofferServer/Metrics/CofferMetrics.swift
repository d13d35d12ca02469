import CofferCore
import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// Coffer's operational metrics: instrumented through apple/swift-metrics, exposed in Prometheus text
/// format by swift-server/swift-prometheus, one registry per runtime (never the process-global
/// `MetricsSystem`, so two servers in one process — tests — keep their own counts).
///
/// Every label value comes from a closed set Coffer defines: route templates as registered (never the
/// requested path), known HTTP methods, status classes, verification codes, rate-limit tiers, key states
/// and age buckets. No secret, key id, token accessor, path, tenant or other caller-supplied string
/// becomes a label, so the number of series is bounded whatever clients send.
public final class CofferMetrics: Sendable {
    /// The registry the exposition is written from.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let exported = Mutex<[String: Int]>([:])
    private let census = Mutex<(time: Int64, rows: [APIKeyCensus])?>(nil)
    private let requestSeries = Mutex<[RequestSeries: (CoreMetrics.Counter, CoreMetrics.Timer)]>([:])

    struct RequestSeries: Hashable {
        var route: String
        var method: String
        var statusClass: String
    }

    /// Methods kept as label values; anything else is counted as `OTHER`.
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "LIST"]

    /// Rate-limit tiers, as label values of `coffer_rate_limit_refusals_total`.
    public enum Tier: String, Sendable, CaseIterable {
        /// Requests without a valid credential, per client address.
        case anonymous
        /// Non-admin tokens and keys without a limit of their own.
        case authenticated
        /// Admin tokens and keys.
        case service
        /// An API key's own rate limit.
        case apiKey = "api_key"
        /// An API key's quota.
        case quota
        /// A tenant's total.
        case tenant
    }

    /// Creates an empty registry with Coffer's histogram buckets.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        ]
        factory.valueHistogramBuckets = ["coffer_audit_group_commit_size": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]]
        self.factory = factory
    }

    // MARK: - Requests

    /// Counts one answered request and its latency: `route` is the registered template (or `unmatched`).
    public func request(route: String?, method: String, status: Int, duration: Duration) {
        let method = Self.methods.contains(method) ? method : "OTHER"
        let series = RequestSeries(route: route.map(Self.routeLabel) ?? "unmatched", method: method, statusClass: Self.statusClass(status))
        let (counter, timer) = requestSeries.withLock { cache in
            if let known = cache[series] { return known }
            let made = (
                CoreMetrics.Counter(
                    label: "coffer_http_requests_total",
                    dimensions: [("route", series.route), ("method", series.method), ("status_class", series.statusClass)], factory: factory),
                CoreMetrics.Timer(
                    label: "coffer_http_request_duration_seconds", dimensions: [("route", series.route), ("method", series.method)],
                    factory: factory)
            )
            cache[series] = made
            return made
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }

    /// `2xx`, `4xx`, … (`other` outside 100–599).
    static func statusClass(_ status: Int) -> String {
        (100...599).contains(status) ? "\(status / 100)xx" : "other"
    }

    /// A template as a label: Hummingbird's `NotFound` marker becomes `unmatched`; templates are what
    /// Coffer registered (`/v1/{mount}/data/**`), so their number is fixed by the code.
    static func routeLabel(_ template: String) -> String {
        template == "NotFound" ? "unmatched" : template
    }

    // MARK: - Events

    /// Counts a request refused by a rate limit or quota of `tier`.
    public func rateLimitRefused(_ tier: Tier) {
        CoreMetrics.Counter(label: "coffer_rate_limit_refusals_total", dimensions: [("tier", tier.rawValue)], factory: factory).increment()
    }

    /// Records the size of one audit group commit.
    public func auditBatch(size: Int) {
        CoreMetrics.Recorder(label: "coffer_audit_group_commit_size", factory: factory).record(size)
    }

    /// Counts one call through the gateway by the upstream's (or Coffer's refusal's) status class.
    public func gatewayCall(status: Int) {
        CoreMetrics.Counter(label: "coffer_gateway_calls_total", dimensions: [("status_class", Self.statusClass(status))], factory: factory)
            .increment()
    }

    /// Counts an alert opened, by rule and severity (both closed sets).
    public func alertOpened(rule: AlertRuleName, severity: AlertSeverity) {
        CoreMetrics.Counter(
            label: "coffer_alerts_opened_total", dimensions: [("rule", rule.rawValue), ("severity", severity.rawValue)], factory: factory
        ).increment()
    }

    /// Counts a re-encryption job event (`started`, `progress`, `completed`, `failed`, `cancelled`).
    public func jobEvent(_ event: ReencryptionEvent) {
        CoreMetrics.Counter(label: "coffer_reencryption_job_events_total", dimensions: [("event", event.rawValue)], factory: factory).increment()
    }

    // MARK: - Scrape-time values

    /// Refreshes the values read at scrape time (verification counts, audit queue, sink drops, keys by
    /// state and age, keyring progress) and returns the exposition. Keys are counted at most once a minute.
    public func exposition(runtime: CofferRuntime) async -> [UInt8] {
        for code in APIKeyVerifyCode.allCases {
            let total = runtime.apiKeys.usage.totals[code] ?? 0
            advance("coffer_api_key_verifications_total", [("code", code.rawValue)], to: total)
        }
        advance("coffer_audit_sink_dropped_total", [("sink", "http")], to: runtime.auditSinks.droppedHTTP)
        CoreMetrics.Gauge(label: "coffer_audit_queue_depth", factory: factory).record(await runtime.audit.committer.depth)
        CoreMetrics.Gauge(label: "coffer_sealed", factory: factory).record(runtime.keyring.isSealed ? 1 : 0)
        await refreshKeyCensus(runtime: runtime)
        // Background-job progress, summed over every tenant's running jobs (no job id as a label).
        if let running = try? await runtime.reencryptionJobs.runningJobs() {
            CoreMetrics.Gauge(label: "coffer_reencryption_jobs_running", factory: factory).record(running.count)
            CoreMetrics.Gauge(label: "coffer_reencryption_rows_done", factory: factory).record(running.reduce(0) { $0 + $1.done })
            CoreMetrics.Gauge(label: "coffer_reencryption_rows_total", factory: factory).record(running.reduce(0) { $0 + $1.total })
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    /// Counters fed from totals kept elsewhere: each scrape adds what is new since the last.
    func advance(_ label: String, _ dimensions: [(String, String)], to total: Int) {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = exported.withLock { exported -> Int in
            let delta = total - (exported[key] ?? 0)
            if delta > 0 { exported[key] = total }
            return delta
        }
        let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        // Created even at 0, so every series exists from the first scrape.
        if delta > 0 { counter.increment(by: delta) }
    }

    func refreshKeyCensus(runtime: CofferRuntime) async {
        let now = runtime.clock.nowMillis
        var rows = census.withLock { cached -> [APIKeyCensus]? in
            guard let cached, now - cached.time < 60_000, now >= cached.time else { return nil }
            return cached.rows
        }
        if rows == nil, let counted = try? await runtime.storage.apiKeys.census(now: now) {
            census.withLock { $0 = (now, counted) }
            rows = counted
        }
        guard let rows else { return }
        for state in APIKeyCensus.State.allCases {
            for age in APIKeyCensus.Age.allCases {
                let count = rows.first { $0.state == state && $0.age == age }?.count ?? 0
                CoreMetrics.Gauge(label: "coffer_api_keys", dimensions: [("state", state.rawValue), ("age", age.rawValue)], factory: factory)
                    .record(count)
            }
        }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

import CofferCore
import Foundation
import Logging
import Synchronization

/// Evaluates every tenant's alert rules continuously: each committed audit entry is read for signals
/// (``AlertSignal``), counted by the pure ``AlertEvaluator`` at the entry's own time, and a rule that
/// trips raises (or counts into) an alert through ``AlertService`` — deduplicated, with its cool-down,
/// recorded in the tenant's chain — and tells the channels. Raising never delays the request that caused
/// it: it runs in the background.
///
/// Each instance counts what it served; with several instances a threshold applies per instance (the
/// alerts themselves, their states and cool-downs are shared in the database).
public final class AlertEngine: Sendable {
    let service: AlertService
    let tenants: any TenantStore
    let notifier: AlertNotifier
    let clock: any CofferClock
    let audited: Bool
    let committed: @Sendable (AuditEntry) -> Void
    let logger: Logger
    /// Told of every alert opened (the `coffer_alerts_opened_total` metric).
    let opened: @Sendable (AlertRecord) -> Void

    struct State {
        var evaluator = AlertEvaluator()
        var settings: [String: (value: AlertSettings, loaded: Int64)] = [:]
        var refreshing: Set<String> = []
        /// When each alert key was last raised here: repeats within `raiseEvery` are folded.
        var raised: [String: Int64] = [:]
    }

    private let state = Mutex(State())
    private let pending = Mutex<[Task<Void, Never>]>([])
    /// Settings are re-read after this long (other instances' changes reach this one within it).
    static let settingsMaxAge: Int64 = 10_000
    /// An alert key raised here is not raised again within this (the store counts one occurrence).
    static let raiseEvery: Int64 = 5_000

    init(
        service: AlertService, tenants: any TenantStore, notifier: AlertNotifier, clock: any CofferClock, audited: Bool, logger: Logger,
        committed: @escaping @Sendable (AuditEntry) -> Void, opened: @escaping @Sendable (AlertRecord) -> Void = { _ in }
    ) {
        self.opened = opened
        self.service = service
        self.tenants = tenants
        self.notifier = notifier
        self.clock = clock
        self.audited = audited
        self.logger = logger
        self.committed = committed
    }

    /// Reads one committed entry for signals (from `record` when given: the record the entry was made
    /// from); raises what trips in the background.
    public func observe(_ entry: AuditEntry, record given: AuditRecord? = nil) {
        guard let record = given ?? entry.record else { return }
        let signals = AlertSignal.signals(in: record)
        guard !signals.isEmpty else { return }
        let tenantID = entry.tenantID
        let now = clock.nowMillis
        let (settings, triggers, refresh) = state.withLock { state -> (AlertSettings, [AlertTrigger], Bool) in
            let cached = state.settings[tenantID]
            let settings = cached?.value ?? AlertSettings()
            let stale = cached.map { now - $0.loaded > Self.settingsMaxAge || now < $0.loaded } ?? true
            let refresh = stale && state.refreshing.insert(tenantID).inserted
            var triggers: [AlertTrigger] = []
            for signal in signals {
                for trigger in state.evaluator.observe(signal, tenantID: tenantID, at: record.time, rules: settings.rules) {
                    let key = "\(tenantID)|\(trigger.rule.rawValue)|\(trigger.dedupKey)"
                    if let last = state.raised[key], record.time - last < Self.raiseEvery, record.time >= last { continue }
                    state.raised[key] = record.time
                    triggers.append(trigger)
                }
            }
            if state.raised.count > 10_000 { state.raised = state.raised.filter { record.time - $0.value < Self.raiseEvery } }
            return (settings, triggers, refresh)
        }
        guard refresh || !triggers.isEmpty else { return }
        track(
            Task {
                var settings = settings
                if refresh { settings = await self.reload(tenantID) }
                if !triggers.isEmpty { await self.raise(triggers, tenantID: tenantID, settings: settings) }
            })
    }

    /// Raises triggers in a tenant (also used by `coffer alerts test`'s path through the API).
    func raise(_ triggers: [AlertTrigger], tenantID: String, settings: AlertSettings) async {
        do {
            guard let tenant = try await tenants.tenant(id: tenantID) else { return }
            for trigger in triggers {
                let rule = settings.rule(trigger.rule)
                let now = clock.nowMillis
                let work = UnitOfWork.system(
                    "alerts", tenantID: tenantID, operation: "alert.firing", resourceType: "alert", time: now, audited: audited)
                let result: AlertRaise
                do {
                    result = try await service.raise(tenantID: tenantID, trigger, rule: rule, at: now, in: work)
                } catch {
                    // Once more after a pause: a busy database should not lose an alert.
                    try await Task.sleep(for: .seconds(1))
                    result = try await service.raise(tenantID: tenantID, trigger, rule: rule, at: clock.nowMillis, in: work)
                }
                if let entry = work.committedEntry { committed(entry) }
                if result.opened { opened(result.alert) }
                // Pages go out at once; daily and weekly alerts wait for their digest (they are logged now).
                if result.notify {
                    let channels = result.alert.severity == .page ? Array(settings.channels.values) : []
                    notifier.notify(result.alert, tenant: tenant, channels: channels, time: now)
                }
            }
        } catch {
            logger.error("alert could not be raised", metadata: ["tenant_id": .string(tenantID), "error": .string("\(error)")])
        }
    }

    /// Reads a tenant's settings afresh (and caches them).
    func reload(_ tenantID: String) async -> AlertSettings {
        let loaded = (try? await service.settings(tenantID: tenantID)) ?? AlertSettings()
        let now = clock.nowMillis
        state.withLock { state in
            state.settings[tenantID] = (loaded, now)
            state.refreshing.remove(tenantID)
            if state.settings.count > 10_000 { state.settings.removeAll() }
        }
        return loaded
    }

    /// Drops a tenant's cached settings (after a change through this instance).
    public func forget(_ tenantID: String) {
        state.withLock { _ = $0.settings.removeValue(forKey: tenantID) }
    }

    func track(_ task: Task<Void, Never>) {
        pending.withLock { tasks in
            tasks.removeAll { $0.isCancelled }
            tasks.append(task)
            if tasks.count > 256 { tasks.removeFirst(tasks.count - 256) }
        }
    }

    /// Waits for raises already started (tests, shutdown).
    public func settle() async {
        let tasks = pending.withLock { tasks in
            defer { tasks.removeAll() }
            return tasks
        }
        for task in tasks { await task.value }
    }
}

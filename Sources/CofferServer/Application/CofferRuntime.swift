import CofferCore
import CofferStore
import Foundation
import Logging

/// The unlocked, running core of a Coffer server: storage, keyring and domain services.
public final class CofferRuntime: Sendable {
    /// Configuration.
    public let configuration: ServerConfiguration
    /// Storage.
    public let storage: any CofferStorage
    /// The unlocked keyring.
    public let keyring: Keyring
    /// Tokens.
    public let tokens: TokenService
    /// KV secrets.
    public let secrets: SecretService
    /// Tenants.
    public let tenants: TenantService
    /// Request authentication.
    public let authenticator: Authenticator
    /// Time source.
    public let clock: any CofferClock
    /// `sqlite` or `postgresql`, for seal-status.
    public let storageType: String
    /// The audit log.
    public let audit: AuditService
    /// Copies of committed audit entries (stdout, file, HTTP).
    public let auditSinks: AuditSinks
    /// API keys.
    public let apiKeys: APIKeyService
    /// Transit keys and their operations.
    public let transit: TransitService
    /// Gateway projects and the rules of proxied calls.
    public let gateway: GatewayService
    /// Secrets-engine mounts.
    public let mounts: MountService
    /// Response wrapping.
    public let wrapping: WrappingService
    /// Gateway projects' public assets.
    public let assets: GatewayAssetService
    /// Verifies the JWTs of gateway client profiles (and caches JWKS URLs' keys).
    let jwtVerifier: GatewayJWTVerifier
    /// The gateway's upstream connections.
    public let upstream: UpstreamTransport
    /// Protect / unprotect by policy.
    public let protector: ProtectService
    /// Re-encryption after a data-key rotation.
    public let reencryption: ReencryptionService
    /// Background re-encryption jobs and scheduled data-key rotation.
    public let reencryptionJobs: ReencryptionJobService
    /// Auth methods and logins.
    public let identity: IdentityService
    /// Signatures of JWTs presented to JWT/OIDC auth methods.
    let jwtLogins: JWTLoginVerifier
    /// The identity provider's side of OIDC browser logins.
    let oidcProvider: OIDCProviderClient
    /// Operational metrics (`/metrics`).
    public let metrics: CofferMetrics
    /// Alerts: settings, raising, acknowledging, resolving.
    public let alerts: AlertService
    /// Evaluates the alert rules on every committed audit entry.
    public let alertEngine: AlertEngine
    /// Delivers alert notifications (and `coffer alerts test`).
    let alertNotifier: AlertNotifier

    /// Opens storage from the configuration, migrates it and unlocks the keyring with `rootKey`.
    public static func start(
        configuration: ServerConfiguration, rootKey: RootKeySource, environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: any CofferClock = SystemClock(), auditTransport: (any AuditHTTPTransport)? = nil, logger: Logger
    ) async throws -> CofferRuntime {
        try configuration.validate()
        let storage = try await SQLStorage.open(
            url: configuration.storageURL, clock: clock, logger: logger, defaultKVMount: configuration.kvMount,
            migrationURL: configuration.storageMigrationURL, requireRowSecurity: !configuration.allowRowSecurityBypass,
            listenForChanges: configuration.changeNotifications)
        do {
            let keyring = try await Keyring.open(storage: storage, source: rootKey, clock: clock)
            return try CofferRuntime(
                configuration: configuration, storage: storage, keyring: keyring, environment: environment, clock: clock,
                storageType: configuration.storageURL.hasPrefix("postgres") ? "postgresql" : "sqlite", auditTransport: auditTransport, logger: logger)
        } catch {
            try? await storage.shutdown()
            throw error
        }
    }

    /// Builds a runtime over already-open storage and keyring.
    public init(
        configuration: ServerConfiguration, storage: any CofferStorage, keyring: Keyring, environment: [String: String],
        clock: any CofferClock, storageType: String, auditTransport: (any AuditHTTPTransport)? = nil, logger: Logger = Logger(label: "coffer")
    ) throws {
        self.configuration = configuration
        self.storage = storage
        self.keyring = keyring
        self.clock = clock
        self.storageType = storageType
        let metrics = CofferMetrics()
        self.metrics = metrics
        let tokens = TokenService(store: storage.tokens, hasher: keyring, clock: clock)
        self.tokens = tokens
        self.secrets = SecretService(
            store: storage.secrets, keyring: keyring, clock: clock,
            references: EnvReferencePolicy(patterns: configuration.envReferencePatterns, environment: environment),
            defaultMaxVersions: configuration.defaultMaxVersions)
        self.mounts = MountService(store: storage.mounts, clock: clock, defaultKVPath: configuration.kvMount)
        self.wrapping = WrappingService(store: storage.wrapping, keyring: keyring, clock: clock)
        self.tenants = TenantService(tenants: storage.tenants, keyring: keyring, tokens: tokens, clock: clock)
        // Shared storage (PostgreSQL) pipelines two audit batches; SQLite's single writer gains nothing from it.
        let audit = AuditService(
            store: storage.audit, keyring: keyring, clock: clock, batchesInFlight: storage.isShared ? 2 : 1,
            observeBatch: { metrics.auditBatch(size: $0) })
        self.audit = audit
        self.auditSinks = try AuditSinks(configuration: configuration, transport: auditTransport, logger: logger)
        let apiKeys = APIKeyService(store: storage.apiKeys, hasher: keyring, clock: clock, limiter: storage.rateLimits)
        self.apiKeys = apiKeys
        let transit = TransitService(
            store: storage.transit, keyring: keyring, clock: clock, cacheKeys: true, maxAge: storage.isShared ? .seconds(1) : nil)
        self.transit = transit
        storage.onExternalChange { transit.forgetKeys() }
        self.protector = ProtectService(transit: transit, store: storage.transit, clock: clock)
        self.gateway = GatewayService(
            store: storage.gateway, secrets: secrets, apiKeys: apiKeys, limiter: storage.rateLimits, clock: clock)
        let assets = GatewayAssetService(store: storage.gateway, keyring: keyring, clock: clock)
        self.assets = assets
        let upstream = UpstreamTransport()
        self.upstream = upstream
        self.jwtVerifier = GatewayJWTVerifier(upstream: upstream, secrets: secrets)
        self.reencryption = ReencryptionService(
            secrets: secrets, transit: transit, assets: assets, store: storage.secrets, keyring: storage.keyring)
        self.identity = IdentityService(store: storage.identity, tokens: tokens, tokenStore: storage.tokens, hasher: keyring, clock: clock)
        let jwtLogins = JWTLoginVerifier(upstream: upstream, clock: clock, allowInternal: configuration.authAllowInternalURLs)
        self.jwtLogins = jwtLogins
        self.oidcProvider = OIDCProviderClient(
            keys: jwtLogins, upstream: upstream, secrets: secrets, allowInternal: configuration.authAllowInternalURLs)
        let alerts = AlertService(store: storage.alerts, clock: clock)
        self.alerts = alerts
        let mailer = configuration.smtpHost.map { SMTPMailer(host: $0, port: configuration.smtpPort, from: configuration.smtpFrom) }
        let notifier = AlertNotifier(
            upstream: upstream, secrets: secrets, mailer: mailer, allowInternal: configuration.alertsAllowInternalURLs, logger: logger)
        self.alertNotifier = notifier
        let sinks = auditSinks
        self.alertEngine = AlertEngine(
            service: alerts, tenants: storage.tenants, notifier: notifier, clock: clock, audited: configuration.auditEnabled, logger: logger,
            committed: { sinks.emit($0) }, opened: { metrics.alertOpened(rule: $0.rule, severity: $0.severity) })
        self.authenticator = Authenticator(
            tokens: tokens, apiKeys: apiKeys, tenants: storage.tenants, audit: audit, tiers: configuration.rateLimits, clock: clock,
            metrics: metrics)
        let engine = alertEngine
        let tenantStore = storage.tenants
        self.reencryptionJobs = ReencryptionJobService(
            storage: storage, keyring: keyring, transit: transit, assets: assets, clock: clock, audited: configuration.auditEnabled,
            committed: { entry in
                sinks.emit(entry)
                engine.observe(entry, record: nil)
            },
            observer: { job, event in
                guard let tenant = try? await tenantStore.tenant(id: job.tenantID), let settings = try? await alerts.settings(tenantID: job.tenantID)
                else { return }
                notifier.jobEvent(job, event: event, tenant: tenant, channels: Array(settings.channels.values), time: clock.nowMillis)
                metrics.jobEvent(event)
            })
    }

    /// Hands a committed audit entry to the sinks and to the alert rules.
    /// `record`, when the caller has it, spares the alert rules decoding the entry.
    public func auditCommitted(_ entry: AuditEntry, record: AuditRecord? = nil) {
        auditSinks.emit(entry)
        alertEngine.observe(entry, record: record)
    }

    /// The scheduled key rules (the leader's job, hourly), in every tenant: API keys expiring soon, never
    /// rotated past their rotation period, or unused for it; long-lived tokens ending soon; transit keys
    /// not rotated for a year. Returns the triggers raised.
    @discardableResult
    public func checkKeyHealth() async throws -> Int {
        guard !keyring.isSealed else { return 0 }
        let now = clock.nowMillis
        var raised = 0
        for tenant in try await storage.tenants.listTenants() {
            let settings = try await alerts.settings(tenantID: tenant.id)
            let bounds = KeyAttention.bounds(settings, now: now)
            let keys = try await storage.apiKeys.needingAttention(
                tenantID: tenant.id, now: now, expiringBefore: bounds.expiringBefore, createdBefore: bounds.createdBefore,
                unusedSince: bounds.unusedSince, limit: 1000)
            var triggers = KeyAttention.triggers(keys, settings: settings, now: now)
            let tokenRule = settings.rule(.tokenExpiring)
            if tokenRule.enabled {
                let ending = try await storage.tokens.tokensEnding(
                    tenantID: tenant.id, now: now, before: now + Int64(tokenRule.windowSeconds) * 1000, limit: 1000)
                triggers += KeyAttention.tokenTriggers(ending, settings: settings, now: now)
            }
            if settings.rule(.transitKeyNotRotated).enabled {
                var newest: [(name: String, version: Int, createdAt: Int64)] = []
                for name in try await storage.transit.keyNames(tenantID: tenant.id).prefix(1000) {
                    guard let key = try? await transit.key(tenant: tenant, name: name), let latest = key.versions.max(by: { $0.version < $1.version })
                    else { continue }
                    newest.append((name, latest.version, latest.createdAt))
                }
                triggers += KeyAttention.transitTriggers(newest, settings: settings, now: now)
            }
            guard !triggers.isEmpty else { continue }
            await alertEngine.raise(triggers, tenantID: tenant.id, settings: settings)
            raised += triggers.count
        }
        return raised
    }

    /// Runs every running re-encryption job to its end, one after another, while `stillLeading()` (the
    /// leader's job; started again every tick while none runs). Returns the jobs it ran.
    @discardableResult
    public func runKeyringJobs(stillLeading: @escaping @Sendable () async -> Bool = { true }) async throws -> [ReencryptionJob] {
        guard !keyring.isSealed else { return [] }
        var ran: [ReencryptionJob] = []
        for job in try await reencryptionJobs.runningJobs() {
            guard await stillLeading(), !keyring.isSealed else { break }
            ran.append(await reencryptionJobs.run(job, stillLeading: stillLeading))
        }
        return ran
    }

    /// Rotates the data keys of tenants whose rotation schedule is due and starts their re-encryption
    /// (the leader's job, every minute). Returns the tenants rotated.
    @discardableResult
    public func rotateScheduledDataKeys() async throws -> [String] {
        guard !keyring.isSealed else { return [] }
        return try await reencryptionJobs.rotateDue()
    }

    /// Rotates every transit key whose `auto_rotate_period` has passed, in every tenant (the leader's job,
    /// every minute), so keys nobody uses rotate on time too. Returns how many were rotated.
    @discardableResult
    public func rotateDueTransitKeys() async throws -> Int {
        guard !keyring.isSealed else { return 0 }
        var count = 0
        for tenant in try await storage.tenants.listTenants() { count += try await transit.rotateDue(tenant: tenant).count }
        return count
    }

    /// Sends each tenant's daily and weekly digests when due (the leader's job, hourly): the firing alerts
    /// of that severity with an occurrence since the last digest, to every channel taking it. Each digest
    /// sent is audited (`alert.digest`). Returns the digests sent.
    @discardableResult
    public func sendDigests() async throws -> Int {
        guard !keyring.isSealed else { return 0 }
        let now = clock.nowMillis
        var sent = 0
        for tenant in try await storage.tenants.listTenants() {
            var settings = try await alerts.settings(tenantID: tenant.id)
            guard !settings.channels.isEmpty else { continue }
            let firing = try await alerts.list(tenantID: tenant.id, state: .firing, limit: 1000)
            for (severity, period) in [(AlertSeverity.daily, Int64(86_400_000)), (.weekly, Int64(604_800_000))] {
                let last = settings.digests[severity] ?? 0
                guard now - last >= period else { continue }
                let due = firing.filter { $0.severity == severity && $0.lastAt > last }
                let channels = settings.channels.values.filter { $0.sends(severity) }
                guard !due.isEmpty, !channels.isEmpty else { continue }
                _ = await alertNotifier.digest(due, tenant: tenant, severity: severity, channels: Array(channels), time: now)
                settings.digests[severity] = now
                let work = UnitOfWork.system(
                    "alerts", tenantID: tenant.id, operation: "alert.digest", resourceType: "alert",
                    details: ["severity": severity.rawValue, "alerts": String(due.count)], time: now, audited: configuration.auditEnabled)
                try await storage.alerts.saveSettings(tenantID: tenant.id, settings.json, in: work)
                if let entry = work.committedEntry { auditSinks.emit(entry) }
                sent += 1
            }
        }
        return sent
    }

    /// Resolves alerts that went quiet (the leader's job, every minute), each audited as `alert.resolved`.
    @discardableResult
    public func resolveQuietAlerts() async throws -> Int {
        let alerts = self.alerts
        let resolved = try await alerts.resolveQuiet(settings: { try await alerts.settings(tenantID: $0) }) { alert in
            UnitOfWork.system(
                "alerts", tenantID: alert.tenantID, operation: "alert.resolved", resourceType: "alert", resourceID: alert.id,
                details: ["rule": alert.rule.rawValue], time: clock.nowMillis, audited: configuration.auditEnabled)
        }
        return resolved.count
    }

    /// Writes pending API-key last-use times (called every `apiKeyUsageFlushSeconds` and at shutdown).
    public func flushKeyUsage() async throws {
        try await apiKeys.flushLastUsed()
    }

    /// Appends one `keys.verify.summary` audit entry per tenant with the verification outcomes counted
    /// since the last summary (verifications are data-plane calls: counted, not logged one by one).
    public func writeVerifySummaries() async throws {
        for (tenantID, counts) in apiKeys.usage.drainTallies() {
            var details: [String: String] = [:]
            for (code, count) in counts { details["count_\(code.lowercased())"] = String(count) }
            details["total"] = String(counts.values.reduce(0, +))
            let record = AuditRecord(
                time: clock.nowMillis, actor: AuditActor(kind: "system", id: "coffer", role: "", displayName: "verify summary"),
                operation: "keys.verify.summary", resourceType: "api_key", resourceID: "", clientIP: "", userAgent: "", requestID: "",
                status: 200, errorCode: "", request: .null, details: details)
            auditCommitted(try await audit.record(tenantID: tenantID, record), record: record)
        }
    }

    /// The `delete_version_after` job: soft-deletes every due KV version, one audited unit of work per
    /// tenant that had any (operation `kv.delete_version_after`, the versions listed). Returns the count.
    @discardableResult
    public func deleteDueVersions() async throws -> Int {
        guard !keyring.isSealed else { return 0 }
        var total = 0
        for tenant in try await storage.tenants.listTenants() {
            let actor = AuditActor(kind: "system", id: "coffer", role: "", displayName: "delete_version_after")
            let record = AuditRecord(
                time: clock.nowMillis, actor: actor, operation: "kv.delete_version_after", resourceType: "kv", resourceID: "", clientIP: "",
                userAgent: "", requestID: "", status: 200, errorCode: "", request: .null, details: [:])
            let work = configuration.auditEnabled ? UnitOfWork(record: record) : .unaudited()
            work.identify(tenantID: tenant.id, actor: actor) { $0 }
            // Nothing due: no write, so no entry.
            let deleted = try await secrets.deleteDueVersions(tenant: tenant, in: work)
            total += deleted.count
        }
        return total
    }

    /// Signs a checkpoint for every tenant whose chain grew since its last one.
    public func checkpointAll() async throws {
        // A sealed server holds no signing key; the chain waits for the next run after unseal.
        guard !keyring.isSealed else { return }
        for tenant in try await storage.tenants.listTenants() {
            let head = try await audit.store.head(tenantID: tenant.id)
            let last = try await audit.store.checkpoints(tenantID: tenant.id).last?.sequence ?? 0
            if head.sequence > last { try await audit.checkpoint(tenantID: tenant.id) }
        }
    }

    /// Seals this instance: the keyring drops its root, system and data keys, and every service drops the
    /// keys it cached (transit keys, audit redaction keys, JWT verification keys, upstream clients holding
    /// client-certificate keys). Until ``unseal(key:)`` every request but health, seal-status and unseal
    /// answers `SEALED`. Other instances on the same database are not affected (as in Vault).
    public func seal() async {
        keyring.seal()
        transit.forgetKeys()
        audit.forgetKeys()
        jwtVerifier.forgetKeys()
        await upstream.closeClients()
    }

    /// Unseals with the root-key material the server was started with: the base64 root key (as in
    /// `COFFER_ROOT_KEY` or the key file) or the passphrase. `ROOT_KEY_INVALID` when neither matches.
    public func unseal(key: String) async throws {
        var candidates: [RootKeySource] = []
        let trimmed = key.trimmingCharacters(in: .whitespacesAndNewlines)
        if let bytes = Base64.decode(trimmed), bytes.count == 32 { candidates.append(.key(bytes, origin: "the unseal key")) }
        if !key.isEmpty { candidates.append(.passphrase(Array(key.utf8), kdf: .argon2id)) }
        for candidate in candidates {
            do {
                try await keyring.unseal(with: candidate, storage: storage)
                return
            } catch let error as CofferError where error.code == .rootKeyInvalid {
                continue
            }
        }
        throw CofferError(.rootKeyInvalid, "the unseal key does not match this server's root key")
    }

    /// Flushes pending API-key usage and closes storage.
    public func shutdown() async {
        try? await flushKeyUsage()
        if configuration.auditEnabled { try? await writeVerifySummaries() }
        await upstream.shutdown()
        try? await storage.shutdown()
    }
}

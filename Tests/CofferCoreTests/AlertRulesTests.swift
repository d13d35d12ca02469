import CofferCore
import Testing

@Suite("Alert rules (injected clock)")
struct AlertRulesTests {
    static let t0: Int64 = 1_790_000_000_000

    static func record(
        _ operation: String, status: Int = 200, code: String = "", ip: String = "10.0.0.1", details: [String: String] = [:], requestID: String = "r"
    ) -> AuditRecord {
        AuditRecord(
            time: t0, actor: .anonymous, operation: operation, resourceType: "x", resourceID: "key_1", clientIP: ip, userAgent: "",
            requestID: requestID, status: status, errorCode: code, request: .null, details: details)
    }

    @Test func elevenFailedAuthenticationsInAMinuteFireBothRules() {
        var evaluator = AlertEvaluator()
        for second in 0..<10 {
            #expect(evaluator.observe(.failedAuth(address: "10.0.0.1"), tenantID: "t", at: Self.t0 + Int64(second) * 1000).isEmpty)
        }
        let eleventh = evaluator.observe(.failedAuth(address: "10.0.0.1"), tenantID: "t", at: Self.t0 + 59_000)
        #expect(eleventh.map(\.rule) == [.failedAuth, .failedAuthAddress])
        #expect(eleventh.allSatisfy { $0.severity == .page })
        #expect(eleventh[0].dedupKey == "tenant" && eleventh[0].details["count"] == "11")
        #expect(eleventh[1].dedupKey == "10.0.0.1" && eleventh[1].details["client_ip"] == "10.0.0.1")
        #expect(evaluator.observe(.failedAuth(address: "10.0.0.1"), tenantID: "other", at: Self.t0 + 59_000).isEmpty, "tenants count apart")
    }

    @Test func theWindowSlides() {
        var evaluator = AlertEvaluator()
        for second in 0..<10 { _ = evaluator.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + Int64(second) * 1000) }
        // 61 s after the first: the first has left the window, so this is the 10th within it.
        #expect(evaluator.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + 60_500).isEmpty)
        #expect(evaluator.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + 60_600).map(\.rule) == [.failedAuth, .failedAuthAddress])
        // A clock that went backwards does not count old events as new ones.
        var fresh = AlertEvaluator()
        for second in 0..<11 { _ = fresh.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + Int64(second) * 1000) }
        #expect(fresh.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 - 120_000).isEmpty)
    }

    @Test func eventsArrivingOutOfOrderAreAllCounted() {
        // Concurrent requests commit their entries in any order: 11 failures within a second, observed shuffled.
        var evaluator = AlertEvaluator()
        let times = [7, 2, 9, 0, 5, 10, 1, 8, 3, 6, 4].map { Self.t0 + Int64($0) * 100 }
        var fired: [AlertTrigger] = []
        for time in times { fired += evaluator.observe(.failedAuth(address: "a"), tenantID: "t", at: time) }
        #expect(fired.map(\.rule) == [.failedAuth, .failedAuthAddress])
        var rates = AlertEvaluator()
        for index in 0..<100 { _ = rates.observe(.request(status: 200), tenantID: "t", at: Self.t0 + 50_000 - Int64(index) * 400) }
        _ = rates.observe(.request(status: 500), tenantID: "t", at: Self.t0 + 1)
        #expect(rates.observe(.request(status: 500), tenantID: "t", at: Self.t0).map(\.rule) == [.serverErrors], "old buckets are kept, not dropped")
    }

    @Test func unusualVolumeIsJudgedAgainstTheTenantsOwnBaseline() {
        var evaluator = AlertEvaluator()
        // An hour's baseline: 100 requests a minute for 59 minutes.
        for minute in 0..<59 {
            for index in 0..<100 {
                #expect(evaluator.observe(.request(status: 200), tenantID: "t", at: Self.t0 + Int64(minute) * 60_000 + Int64(index)).isEmpty)
            }
        }
        // The next minute: the mean is 100, so more than 1,000 (and at least 600) trips the rule.
        let next = Self.t0 + 59 * 60_000
        var fired: [AlertTrigger] = []
        for index in 0..<1001 { fired = evaluator.observe(.request(status: 200), tenantID: "t", at: next + Int64(index)) }
        #expect(fired.map(\.rule) == [.unusualVolume] && fired[0].details["baseline_per_minute"] == "100")
        // A new tenant has no baseline yet: a first busy minute is not unusual.
        var fresh = AlertEvaluator()
        for index in 0..<5000 { #expect(fresh.observe(.request(status: 200), tenantID: "new", at: Self.t0 + Int64(index)).isEmpty) }
    }

    @Test func longLivedTokensEndingSoonAndTransitKeysAYearOldRaiseTheirRules() throws {
        let day: Int64 = 86_400_000
        let now = Self.t0
        func token(
            _ accessor: String, created: Int64, expires: Int64?, renewable: Bool = false, max: Int64? = nil, revoked: Int64? = nil
        )
            -> TokenRecord
        {
            TokenRecord(
                accessor: accessor, tenantID: "t", hash: [1], role: .viewer, displayName: "svc-\(accessor)", createdAt: created, expiresAt: expires,
                revokedAt: revoked, parentAccessor: nil, ttlSeconds: 0, renewable: renewable, maxExpiresAt: max)
        }
        let tokens = [
            token("ending", created: now - 60 * day, expires: now + 3 * day),  // lives 63 days, ends in 3: raised
            token("short", created: now - 5 * day, expires: now + 3 * day),  // a 8-day session: not raised
            token("renewable", created: now - 60 * day, expires: now + 3 * day, renewable: true),  // renewed past it: not raised
            token("capped", created: now - 60 * day, expires: now + 1 * day, renewable: true, max: now + 2 * day),  // its max ends: raised
            token("later", created: now - 60 * day, expires: now + 30 * day),  // outside the window
            token("revoked", created: now - 60 * day, expires: now + 3 * day, revoked: now - day),
            token("expired", created: now - 60 * day, expires: now - day),
        ]
        let settings = AlertSettings()
        let raised = KeyAttention.tokenTriggers(tokens, settings: settings, now: now)
        #expect(raised.map(\.dedupKey) == ["ending", "capped"])
        #expect(raised.allSatisfy { $0.rule == .tokenExpiring && $0.severity == .daily })
        #expect(raised.first?.summary == "token ending (svc-ending) ends in 3 days and cannot be renewed past it")
        #expect(KeyAttention.end(of: tokens[2]) == nil && KeyAttention.end(of: tokens[3]) == now + 2 * day)

        let keys: [(name: String, version: Int, createdAt: Int64)] = [("old", 3, now - 365 * day - 3_600_000), ("recent", 1, now - 100 * day)]
        let transit = KeyAttention.transitTriggers(keys, settings: settings, now: now)
        #expect(transit.map(\.dedupKey) == ["transit:old"] && transit.first?.rule == .transitKeyNotRotated && transit.first?.severity == .weekly)
        var quieter = settings
        quieter.rules[.transitKeyNotRotated] = try AlertRule.defaultRule(.transitKeyNotRotated).updated(with: ["window_seconds": .int(366 * 86_400)])
        quieter.rules[.tokenExpiring] = try AlertRule.defaultRule(.tokenExpiring).updated(with: ["enabled": false])
        #expect(KeyAttention.transitTriggers(keys, settings: quieter, now: now).isEmpty)
        #expect(KeyAttention.tokenTriggers(tokens, settings: quieter, now: now).isEmpty)
    }

    @Test func scheduledKeyRulesFindExpiringOldAndUnusedKeys() throws {
        let day: Int64 = 86_400_000
        let now = Self.t0
        func key(_ id: String, created: Int64, expires: Int64? = nil, used: Int64? = nil, rotatedTo: String? = nil) -> APIKeyRecord {
            APIKeyRecord(
                id: id, tenantID: "t", hash: [1], displayPrefix: "sk_live_Ab12…", kind: .live, name: id, scopes: [], createdAt: created,
                expiresAt: expires, lastUsedAt: used, rotatedTo: rotatedTo)
        }
        let keys = [
            key("key_expiring", created: now - day, expires: now + 3 * day, used: now),
            key("key_old", created: now - 100 * day, used: now),
            key("key_rotated", created: now - 100 * day, used: now, rotatedTo: "key_new"),
            key("key_idle", created: now - 10 * day, used: now - 95 * day),
            key("key_fine", created: now - 10 * day, expires: now + 30 * day, used: now),
        ]
        let triggers = KeyAttention.triggers(keys, settings: AlertSettings(), now: now)
        #expect(
            triggers.map { "\($0.rule.rawValue):\($0.dedupKey)" } == ["key_expiring:key_expiring", "key_not_rotated:key_old", "key_unused:key_idle"])
        #expect(triggers[0].summary == "API key key_expiring expires in 3 days" && triggers[0].severity == .daily)
        #expect(triggers[1].severity == .weekly && triggers[2].details["last_used_at"] != nil)
        var quieter = AlertSettings()
        quieter.rules[.keyUnused] = try AlertRule.defaultRule(.keyUnused).updated(with: ["enabled": false])
        quieter.rules[.keyExpiring] = try AlertRule.defaultRule(.keyExpiring).updated(with: ["window_seconds": 86_400])
        #expect(KeyAttention.triggers(keys, settings: quieter, now: now).map(\.rule) == [.keyNotRotated])
    }

    @Test func addressesCountApartAndThresholdsAreConfigurable() {
        var evaluator = AlertEvaluator()
        var last: [AlertTrigger] = []
        for index in 0..<11 { last = evaluator.observe(.failedAuth(address: index % 2 == 0 ? "a" : "b"), tenantID: "t", at: Self.t0 + Int64(index)) }
        #expect(last.map(\.rule) == [.failedAuth], "6 from one address and 5 from another: only the tenant rule")

        var raised = AlertEvaluator()
        let rules: [AlertRuleName: AlertRule] = [
            .failedAuth: AlertRule.defaultRule(.failedAuth).with { $0.threshold = 20 },
            .failedAuthAddress: AlertRule.defaultRule(.failedAuthAddress).with { $0.enabled = false },
        ]
        for index in 0..<20 { #expect(raised.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + Int64(index), rules: rules).isEmpty) }
        #expect(raised.observe(.failedAuth(address: "a"), tenantID: "t", at: Self.t0 + 30, rules: rules).map(\.rule) == [.failedAuth])
    }

    @Test func immediateRulesFireOnTheFirstEvent() {
        var evaluator = AlertEvaluator()
        let signature = evaluator.observe(.signatureFailure(operation: "transit.verify"), tenantID: "t", at: Self.t0)
        #expect(signature.map(\.rule) == [.signatureFailure] && signature[0].dedupKey == "transit.verify" && signature[0].severity == .page)
        #expect(evaluator.observe(.revokedKeyUse(count: 3), tenantID: "t", at: Self.t0).first?.details["count"] == "3")
        let leaked = evaluator.observe(.leakedKey(keyID: "key_9"), tenantID: "t", at: Self.t0)
        #expect(leaked.first?.rule == .leakedKey && leaked.first?.dedupKey == "key_9")
        let created = evaluator.observe(.newKey(operation: "keys.create", resourceID: "key_2"), tenantID: "t", at: Self.t0)
        #expect(created.first?.severity == .daily && created.first?.dedupKey == "day-\(Self.t0 / 86_400_000)")
        let nextDay = evaluator.observe(.newKey(operation: "keys.create", resourceID: "key_3"), tenantID: "t", at: Self.t0 + 86_400_000)
        #expect(nextDay.first?.dedupKey != created.first?.dedupKey, "one digest alert per day")
    }

    @Test func errorRatesNeedVolumeAndCountServerAndClientErrorsApart() {
        var evaluator = AlertEvaluator()
        for index in 0..<99 { #expect(evaluator.observe(.request(status: 200), tenantID: "t", at: Self.t0 + Int64(index) * 100).isEmpty) }
        #expect(evaluator.observe(.request(status: 503), tenantID: "t", at: Self.t0 + 10_000).isEmpty, "1 in 100 is not above 1%")
        let second = evaluator.observe(.request(status: 500), tenantID: "t", at: Self.t0 + 10_100)
        #expect(second.map(\.rule) == [.serverErrors] && second[0].details["errors"] == "2" && second[0].details["requests"] == "101")
        let client = evaluator.observe(.request(status: 404), tenantID: "t", at: Self.t0 + 10_200)
        #expect(client.isEmpty, "one 4xx in 102")
        _ = evaluator.observe(.request(status: 404), tenantID: "t", at: Self.t0 + 10_300)
        let third = evaluator.observe(.request(status: 429), tenantID: "t", at: Self.t0 + 10_400)
        #expect(third.map(\.rule) == [.clientErrors] && third[0].severity == .daily)
        // Five minutes later the old requests have left the window.
        #expect(evaluator.observe(.request(status: 500), tenantID: "t", at: Self.t0 + 400_000).isEmpty, "too few requests to judge")

        var quiet = AlertEvaluator()
        for index in 0..<50 { _ = quiet.observe(.request(status: index < 10 ? 500 : 200), tenantID: "t", at: Self.t0 + Int64(index)) }
        #expect(quiet.observe(.request(status: 500), tenantID: "t", at: Self.t0 + 60).isEmpty, "under min_requests, even at 20%")
    }

    @Test func memoryIsBoundedWhateverAddressesArrive() {
        var evaluator = AlertEvaluator(maxKeys: 100)
        for index in 0..<1000 {
            _ = evaluator.observe(.failedAuth(address: "10.0.\(index / 256).\(index % 256)"), tenantID: "t", at: Self.t0 + Int64(index))
        }
        #expect(evaluator.trackedKeys <= 100)
        for index in 0..<1000 { _ = evaluator.observe(.request(status: 200), tenantID: "tenant-\(index)", at: Self.t0 + Int64(index)) }
        #expect(evaluator.trackedKeys <= 100)
    }

    @Test func signalsAreReadOffAuditRecords() {
        #expect(
            AlertSignal.signals(in: Self.record("auth.failed", status: 403, code: "UNAUTHENTICATED")) == [
                .request(status: 403), .failedAuth(address: "10.0.0.1"),
            ])
        #expect(AlertSignal.signals(in: Self.record("auth.login.failed", status: 400)).contains(.failedAuth(address: "10.0.0.1")))
        #expect(
            AlertSignal.signals(in: Self.record("transit.verify", details: ["valid": "false"])).contains(
                .signatureFailure(operation: "transit.verify")))
        #expect(!AlertSignal.signals(in: Self.record("transit.verify")).contains(.signatureFailure(operation: "transit.verify")))
        #expect(
            AlertSignal.signals(in: Self.record("unprotect", status: 400, code: "SIGNATURE_INVALID")).contains(
                .signatureFailure(operation: "unprotect")))
        #expect(
            AlertSignal.signals(in: Self.record("gateway.call", status: 401, code: "SIGNATURE_REPLAYED")).contains(
                .signatureFailure(operation: "gateway.call")))
        #expect(
            AlertSignal.signals(in: Self.record("keys.verify.summary", details: ["count_revoked": "2", "count_expired": "1"], requestID: "")) == [
                .revokedKeyUse(count: 3)
            ])
        #expect(AlertSignal.signals(in: Self.record("keys.verify.summary", details: ["count_valid": "9"], requestID: "")).isEmpty)
        #expect(
            AlertSignal.signals(in: Self.record("auth.failed", status: 403, details: ["key_state": "revoked"])).contains(.revokedKeyUse(count: 1)))
        #expect(AlertSignal.signals(in: Self.record("keys.leaked")).contains(.leakedKey(keyID: "key_1")))
        #expect(AlertSignal.signals(in: Self.record("keys.create")).contains(.newKey(operation: "keys.create", resourceID: "key_1")))
        #expect(!AlertSignal.signals(in: Self.record("keys.create", status: 400)).contains(.newKey(operation: "keys.create", resourceID: "key_1")))
        #expect(AlertSignal.signals(in: Self.record("alert.firing", status: 500, code: "SIGNATURE_INVALID")).isEmpty, "alerts never raise alerts")
    }

    @Test func ruleSettingsAreValidated() throws {
        let rule = AlertRule.defaultRule(.serverErrors)
        #expect(throws: CofferError(.invalidRequest, "unknown rule field 'treshold'")) { try rule.updated(with: ["treshold": 5]) }
        #expect(throws: CofferError(.invalidRequest, "threshold must be an integer from 0 to 100")) { try rule.updated(with: ["threshold": 101]) }
        let long = String(repeating: "x", count: 500)
        #expect(throws: CofferError(.invalidRequest, "unknown rule field '\(long.prefix(64))'")) { try rule.updated(with: [long: 1]) }
        #expect(throws: CofferError(.invalidRequest, "severity must be page, daily or weekly")) { try rule.updated(with: ["severity": "urgent"]) }
        #expect(throws: CofferError(.invalidRequest, "window_seconds must be an integer from 10 to 31622400")) {
            try rule.updated(with: ["window_seconds": 1])
        }
        #expect(throws: CofferError(.invalidRequest, "enabled must be true or false")) { try rule.updated(with: ["enabled": "yes"]) }
        let changed = try rule.updated(with: ["threshold": 5, "severity": "weekly", "min_requests": 10])
        #expect(changed.threshold == 5 && changed.severity == .weekly && changed.minRequests == 10 && changed.windowSeconds == 300)
    }

    @Test func channelsAreValidatedAndSettingsFailClosed() throws {
        #expect(
            throws: CofferError(
                .invalidRequest, "secret_ref must name the whsec_ signing secret in KV as <mount>/<path>#<field> (webhooks are always signed)")
        ) {
            try AlertChannel.parse(name: "ops", ["type": "webhook", "url": "https://hooks.example.com/x"])
        }
        #expect(throws: CofferError(.invalidRequest, "url must be an http(s) URL")) {
            try AlertChannel.parse(name: "ops", ["type": "webhook", "url": "ftp://x", "secret_ref": "secret/a#b"])
        }
        #expect(throws: CofferError(.invalidRequest, "to holds an invalid address")) {
            try AlertChannel.parse(name: "mail", ["type": "email", "to": ["oncall@example.com\r\nBcc: x@evil.com"]])
        }
        #expect(throws: CofferError(.invalidRequest, "url and secret_ref are for webhooks")) {
            try AlertChannel.parse(name: "log", ["type": "log", "url": "https://x"])
        }
        #expect(throws: CofferError(.invalidRequest, "a channel name is 1-63 lowercase letters, digits and '-'")) {
            try AlertChannel.parse(name: "Bad Name", ["type": "log"])
        }
        var settings = AlertSettings()
        settings.rules[.failedAuth] = try AlertRule.defaultRule(.failedAuth).updated(with: ["threshold": 3])
        settings.channels["ops"] = try AlertChannel.parse(
            name: "ops", ["type": "webhook", "url": "https://hooks.example.com/x", "secret_ref": "secret/alerts#whsec", "min_severity": "page"])
        #expect(try AlertSettings(stored: settings.json) == settings)
        #expect(settings.channels["ops"]?.sends(.page) == true && settings.channels["ops"]?.sends(.daily) == false)
        #expect(throws: CofferError(.storageCorrupt, "stored alert settings are not readable by this version of Coffer")) {
            try AlertSettings(stored: ["rules": ["made_up_rule": [:]], "channels": [:]])
        }
        #expect(throws: CofferError(.storageCorrupt, "stored alert settings are not readable by this version of Coffer")) {
            try AlertSettings(stored: ["rules": [:], "channels": ["x": ["type": "pager"]]])
        }
    }
}

extension AlertRule {
    /// A copy changed by `change`.
    func with(_ change: (inout AlertRule) -> Void) -> AlertRule {
        var copy = self
        change(&copy)
        return copy
    }
}

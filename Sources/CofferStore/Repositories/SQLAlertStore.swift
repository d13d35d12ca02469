import CofferCore
import Foundation

struct SQLAlertStore: AlertStore {
    let db: WorkDatabase

    static let columns =
        "id, tenant_id, rule, severity, state, dedup_key, summary, details_json, occurrences, first_at, last_at, notified_at, acked_by, acked_at, "
        + "resolved_at"

    func raise(
        tenantID: String, trigger: AlertTrigger, newID: String, now: Int64, cooldownMillis: Int64, in work: UnitOfWork
    ) async throws -> AlertRaise {
        let forUpdate = db.forUpdate
        return try await db.transaction(work, in: .tenant(tenantID)) { tx in
            let key: [SQLValue] = [.text(tenantID), .text(trigger.rule.rawValue), .text(trigger.dedupKey)]
            // Twice at most: a concurrent raise may open the alert between our look and our insert; the
            // insert then does nothing (one open alert per key, by the partial unique index) and we count into it.
            for _ in 0..<2 {
                let open = try await tx.query(
                    "SELECT \(Self.columns) FROM alerts WHERE tenant_id = $1 AND rule = $2 AND dedup_key = $3 AND state <> 'resolved'\(forUpdate)",
                    key
                ).first.map(Self.decode)
                if let open { return try await Self.count(into: open, trigger, now: now, cooldownMillis: cooldownMillis, tx: tx, work: work) }
                let alert = AlertRecord(
                    id: newID, tenantID: tenantID, rule: trigger.rule, severity: trigger.severity, state: .firing, dedupKey: trigger.dedupKey,
                    summary: trigger.summary, details: trigger.details, count: 1, firstAt: now, lastAt: now, notifiedAt: now)
                let inserted = try await tx.query(
                    """
                    INSERT INTO alerts (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, NULL)
                    ON CONFLICT (tenant_id, rule, dedup_key) WHERE state <> 'resolved' DO NOTHING RETURNING id
                    """,
                    [
                        .text(alert.id), .text(tenantID), .text(alert.rule.rawValue), .text(alert.severity.rawValue), .text(alert.state.rawValue),
                        .text(alert.dedupKey), .text(alert.summary), Self.json(alert.details), .int(1), .int(now), .int(now), .int(now),
                    ])
                if inserted.isEmpty { continue }
                work.describe("alert.firing", "alert", alert.id, ["rule": trigger.rule.rawValue, "severity": trigger.severity.rawValue])
                return AlertRaise(alert: alert, opened: true, notify: true)
            }
            throw CofferError(.storageUnavailable, "the alert changed while it was raised; it will be counted at its next occurrence")
        }
    }

    /// Counts an occurrence into an open alert; notifies when it is firing and its cool-down passed.
    static func count(
        into open: AlertRecord, _ trigger: AlertTrigger, now: Int64, cooldownMillis: Int64, tx: any SQLExecutor, work: UnitOfWork
    ) async throws -> AlertRaise {
        var alert = open
        alert.count += 1
        alert.lastAt = max(alert.lastAt, now)
        alert.summary = trigger.summary
        alert.details.merge(trigger.details) { $1 }
        let notify = alert.state == .firing && (alert.notifiedAt.map { now - $0 >= cooldownMillis } ?? true)
        if notify { alert.notifiedAt = now }
        try await tx.query(
            "UPDATE alerts SET occurrences = $3, last_at = $4, summary = $5, details_json = $6, notified_at = $7 WHERE tenant_id = $1 AND id = $2",
            [
                .text(alert.tenantID), .text(alert.id), .int(Int64(alert.count)), .int(alert.lastAt), .text(alert.summary), json(alert.details),
                .optional(alert.notifiedAt),
            ])
        // Counted occurrences are not audited one by one; a repeat notification is.
        if notify {
            work.describe("alert.firing", "alert", alert.id, ["rule": trigger.rule.rawValue, "count": String(alert.count), "repeat": "true"])
        } else {
            work.disable()
        }
        return AlertRaise(alert: alert, opened: false, notify: notify)
    }

    func alert(id: String, tenantID: String) async throws -> AlertRecord? {
        try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM alerts WHERE tenant_id = $1 AND id = $2", [.text(tenantID), .text(id)]
        ).first.map(Self.decode)
    }

    func list(tenantID: String, state: AlertState?, limit: Int) async throws -> [AlertRecord] {
        let filter = state == nil ? "" : " AND state = $3"
        var binds: [SQLValue] = [.text(tenantID), .int(Int64(limit))]
        if let state { binds.append(.text(state.rawValue)) }
        return try await db.query(
            in: .tenant(tenantID), "SELECT \(Self.columns) FROM alerts WHERE tenant_id = $1\(filter) ORDER BY first_at DESC, id LIMIT $2", binds
        ).map(Self.decode)
    }

    func acknowledge(id: String, tenantID: String, by actor: String, at time: Int64, in work: UnitOfWork) async throws -> AlertRecord? {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                "UPDATE alerts SET state = 'acknowledged', acked_by = $3, acked_at = $4 WHERE tenant_id = $1 AND id = $2 AND state = 'firing'",
                [.text(tenantID), .text(id), .text(actor), .int(time)])
            return try await tx.query("SELECT \(Self.columns) FROM alerts WHERE tenant_id = $1 AND id = $2", [.text(tenantID), .text(id)]).first
                .map(Self.decode)
        }
    }

    func resolve(id: String, tenantID: String, lastAt: Int64, at time: Int64, in work: UnitOfWork) async throws -> Bool {
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            let rows = try await tx.query(
                """
                UPDATE alerts SET state = 'resolved', resolved_at = $4 WHERE tenant_id = $1 AND id = $2 AND state <> 'resolved' AND last_at = $3
                RETURNING id
                """, [.text(tenantID), .text(id), .int(lastAt), .int(time)])
            if rows.isEmpty { work.disable() }
            return !rows.isEmpty
        }
    }

    func quiet(before: Int64, limit: Int) async throws -> [AlertRecord] {
        // Across tenants: the resolver's sweep, by the system role.
        try await db.query(
            in: .system,
            "SELECT \(Self.columns) FROM alerts WHERE state <> 'resolved' AND last_at < $1 ORDER BY last_at LIMIT $2",
            [.int(before), .int(Int64(limit))]
        ).map(Self.decode)
    }

    func settings(tenantID: String) async throws -> JSONValue? {
        guard let row = try await db.query(in: .tenant(tenantID), "SELECT document FROM alert_settings WHERE tenant_id = $1", [.text(tenantID)]).first
        else { return nil }
        guard let document = JSONValue.parse(Array(try row.text("document").utf8)) else {
            throw CofferError(.storageCorrupt, "stored alert settings are not JSON")
        }
        return document
    }

    func saveSettings(tenantID: String, _ document: JSONValue, in work: UnitOfWork) async throws {
        let text = String(decoding: document.canonicalBytes(), as: UTF8.self)
        try await db.transaction(work, in: .tenant(tenantID)) { tx in
            try await tx.query(
                "INSERT INTO alert_settings (tenant_id, document) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET document = $2",
                [.text(tenantID), .text(text)])
        }
    }

    static func json(_ details: [String: String]) -> SQLValue {
        .text(String(decoding: JSONValue.object(details.mapValues(JSONValue.string)).canonicalBytes(), as: UTF8.self))
    }

    static func decode(_ row: SQLRow) throws -> AlertRecord {
        AlertRecord(
            id: try row.text("id"), tenantID: try row.text("tenant_id"), rule: try row.known("rule", as: AlertRuleName.self),
            severity: try row.known("severity", as: AlertSeverity.self), state: try row.known("state", as: AlertState.self),
            dedupKey: try row.text("dedup_key"), summary: try row.text("summary"), details: try row.json("details_json", as: [String: String].self),
            count: Int(try row.int("occurrences")), firstAt: try row.int("first_at"), lastAt: try row.int("last_at"),
            notifiedAt: try row.optionalInt("notified_at"), acknowledgedBy: try row.optionalText("acked_by"),
            acknowledgedAt: try row.optionalInt("acked_at"), resolvedAt: try row.optionalInt("resolved_at"))
    }
}

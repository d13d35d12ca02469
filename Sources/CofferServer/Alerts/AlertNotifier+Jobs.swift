import CofferCore

extension AlertNotifier {
    /// The JSON body of a job notification: `{type: "keyring.job.<event>", timestamp, data}` with the
    /// job's figures (never data: counts, versions and the error code's message).
    static func jobPayload(_ job: ReencryptionJob, event: ReencryptionEvent, tenant: Tenant, time: Int64) -> [UInt8] {
        var data: [String: JSONValue] = [
            "id": .string(job.id), "tenant": .string(tenant.name), "state": .string(job.state.rawValue), "trigger": .string(job.trigger.rawValue),
            "target_version": .int(job.targetVersion), "total": .int(job.total), "done": .int(job.done), "percent": .int(Int(job.percent)),
            "rows_per_second": .int(Int(job.rate.rounded())), "destroyed_versions": .array(job.destroyedVersions.map { .int($0) }),
        ]
        if let eta = job.etaSeconds { data["eta_seconds"] = .int(Int(eta.rounded(.up))) }
        if let error = job.error { data["error"] = .string(error) }
        return JSONValue.object([
            "type": .string("keyring.job.\(event.rawValue)"), "timestamp": .string(Timestamp.rfc3339(time)), "data": .object(data),
        ])
        .canonicalBytes()
    }

    /// Tells the tenant's channels about a re-encryption job: a failure as a page, everything else
    /// (start, each quarter, completion, cancellation) as daily-grade news sent at once, not digested.
    func jobEvent(_ job: ReencryptionJob, event: ReencryptionEvent, tenant: Tenant, channels: [AlertChannel], time: Int64) {
        let severity: AlertSeverity = event == .failed ? .page : .daily
        logger.info(
            "re-encryption job",
            metadata: [
                "tenant": .string(tenant.name), "job_id": .string(job.id), "event": .string(event.rawValue), "done": .stringConvertible(job.done),
                "total": .stringConvertible(job.total),
            ])
        let body = Self.jobPayload(job, event: event, tenant: tenant, time: time)
        // The notification travels as a pseudo-alert: its id names the message, its summary is the email subject.
        let carrier = AlertRecord(
            id: job.id, tenantID: tenant.id, rule: .newKey, severity: severity, state: .firing, dedupKey: job.id,
            summary: "re-encryption job \(job.id) \(event.rawValue): \(job.done) of \(job.total) rows", details: ["event": event.rawValue],
            count: 1, firstAt: job.createdAt, lastAt: time)
        for channel in channels where channel.sends(severity) && channel.kind != .log {
            Task { _ = await deliver(body, alert: carrier, tenant: tenant, to: channel, retrying: true, time: time) }
        }
    }
}

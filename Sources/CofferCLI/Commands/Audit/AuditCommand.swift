import ArgumentParser

/// `coffer audit …`: the tenant's tamper-evident audit log (auditors and admins).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read, verify, export and trim the audit log.",
        subcommands: [AuditVerify.self, AuditCheckpoint.self, AuditExport.self, AuditTail.self, AuditReportCommand.self, AuditRetention.self])
}

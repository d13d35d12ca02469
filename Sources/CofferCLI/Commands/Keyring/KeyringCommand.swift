import ArgumentParser

/// `coffer keyring …`: the tenant's data keys.
struct KeyringCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyring", abstract: "Data-key versions, rotation, re-encryption jobs, usage audit, rotation policy and rollback (admins).",
        subcommands: [
            KeyringStatus.self, KeyringRotate.self, KeyringReencrypt.self, KeyringJobs.self, KeyringAudit.self, KeyringPolicy.self,
            KeyringRollback.self, KeyringVerify.self,
        ])
}

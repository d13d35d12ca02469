import ArgumentParser

/// `coffer keyring …`: the tenant's data keys.
struct KeyringCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyring", abstract: "Data-key versions, rotation, re-encryption and rollback (admins).",
        subcommands: [KeyringStatus.self, KeyringRotate.self, KeyringReencrypt.self, KeyringRollback.self, KeyringVerify.self])
}

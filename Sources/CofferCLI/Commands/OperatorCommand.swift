import ArgumentParser

/// `coffer operator …`: operator tasks run against the storage directly.
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Operator tasks (initialisation, root-key rotation).",
        subcommands: [OperatorInit.self, OperatorRotateRoot.self, OperatorAuditFill.self, OperatorKeysFill.self, OperatorKVFill.self])
}

import ArgumentParser

/// `coffer`: server and command-line client in one binary.
public struct CofferCommand: AsyncParsableCommand {
    /// Command tree.
    public static let configuration = CommandConfiguration(
        commandName: "coffer",
        abstract: "Coffer: a self-hosted secrets vault and API-key gateway.",
        version: "0.1.0",
        subcommands: [
            Dev.self, Serve.self, OperatorCommand.self, Login.self, KVCommand.self, TokenCommand.self, TenantCommand.self,
            KeyringCommand.self, KeysCommand.self, TransitCommand.self, PolicyCommand.self, Protect.self, Unprotect.self, AuditCommand.self,
            Run.self, Export.self,
        ]
    )

    /// Creates the command.
    public init() {}
}

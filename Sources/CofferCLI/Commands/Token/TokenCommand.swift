import ArgumentParser

/// `coffer token …`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, inspect and revoke tokens.", subcommands: [TokenCreate.self, TokenLookup.self, TokenRevoke.self])
}

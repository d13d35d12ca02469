import ArgumentParser
import Foundation

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
            Run.self, Export.self, GatewayCommand.self, Scan.self, AlertsCommand.self,
        ]
    )

    /// Creates the command.
    public init() {}

    /// Parses and runs; a mistyped subcommand gets the nearest real one suggested (exit status 64).
    public static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let suggestion = CommandSuggestion.message(for: arguments, root: Self.self) {
            FileHandle.standardError.write(Data("Error: \(suggestion)\n".utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

import ArgumentParser
import CofferCore

/// `coffer keys revoke ID [--reason TEXT]`: immediate.
struct KeysRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke an API key now.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The key id (key_…).") var id: String
    @Option(help: "Why (kept with the key and in the audit log).") var reason: String = ""

    func run() async throws {
        let reply = try await options.client().send("POST", "/v1/keys/\(Output.escapePath(id))/revoke", body: ["reason": .string(reason)])
        KeyPrinter.print(reply.body["data"] ?? .null)
    }
}

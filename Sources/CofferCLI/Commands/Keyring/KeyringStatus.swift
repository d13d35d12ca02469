import ArgumentParser
import CofferCore

/// `coffer keyring status`: versions and how many secret versions each still seals.
struct KeyringStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show data-key versions and their use.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/sys/keyring")
        print(Output.pretty(reply.body["data"] ?? .null))
    }
}

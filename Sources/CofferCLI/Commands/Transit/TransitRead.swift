import ArgumentParser
import CofferCore

/// `coffer transit read NAME`: configuration, versions and their states, public keys.
struct TransitRead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Describe a key (public parts only).")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Key name.") var name: String

    func run() async throws {
        output.print(try await options.client().send("GET", "/v1/transit/keys/\(Output.escapePath(name))").body["data"] ?? .null)
    }
}

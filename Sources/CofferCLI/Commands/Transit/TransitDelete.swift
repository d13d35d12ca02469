import ArgumentParser
import CofferCore

/// `coffer transit delete NAME`: only keys configured with deletion allowed.
struct TransitDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a key (needs deletion_allowed).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String

    func run() async throws {
        _ = try await options.client().send("DELETE", "/v1/transit/keys/\(Output.escapePath(name))")
        print("deleted \(name)")
    }
}

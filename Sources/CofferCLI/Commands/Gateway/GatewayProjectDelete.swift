import ArgumentParser
import CofferCore

/// `coffer gateway project delete NAME`.
struct GatewayProjectDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a project (its routes stop at once).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var name: String

    func run() async throws {
        try await options.client().send("DELETE", "/v1/gateway/projects/\(Output.escapePath(name))")
        print("Deleted gateway project \(name)")
    }
}

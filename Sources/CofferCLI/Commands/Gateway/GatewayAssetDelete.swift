import ArgumentParser
import CofferCore

/// `coffer gateway asset delete PROJECT NAME`.
struct GatewayAssetDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an asset (it stops being served at once).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "Asset name.") var name: String

    func run() async throws {
        try await options.client().send("DELETE", "/v1/gateway/projects/\(Output.escapePath(project))/assets/\(Output.escapePath(name))")
        print("Deleted asset \(name) of \(project)")
    }
}

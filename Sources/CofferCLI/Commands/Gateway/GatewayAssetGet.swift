import ArgumentParser
import CofferCore

/// `coffer gateway asset get PROJECT NAME`: an asset's description (never its content).
struct GatewayAssetGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print an asset's type, size, digests and URL.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String
    @Argument(help: "Asset name.") var name: String

    func run() async throws {
        let path = "/v1/gateway/projects/\(Output.escapePath(project))/assets/\(Output.escapePath(name))"
        output.print(try await options.client().send("GET", path).body["data"] ?? .null)
    }
}

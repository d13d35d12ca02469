import ArgumentParser
import CofferCore

/// `coffer gateway project get NAME`.
struct GatewayProjectGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a project's document.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var name: String

    func run() async throws {
        output.print(try await options.client().send("GET", "/v1/gateway/projects/\(Output.escapePath(name))").body["data"] ?? .null)
    }
}

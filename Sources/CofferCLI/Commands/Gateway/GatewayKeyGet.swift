import ArgumentParser
import CofferCore

/// `coffer gateway key get PROJECT`: prints the current publishable key (issuing or replacing it when due).
struct GatewayKeyGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the project's current publishable key (for the page's backend to hand to browsers).")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String

    func run() async throws {
        let data = try await options.client().send("GET", "/v1/gateway/projects/\(Output.escapePath(project))/publishable-key").body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        print(data["key"]?.stringValue ?? "")
    }
}

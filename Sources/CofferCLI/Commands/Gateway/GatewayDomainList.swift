import ArgumentParser
import CofferCore

/// `coffer gateway domain list PROJECT`.
struct GatewayDomainList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the origins allowed to call a project.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String

    func run() async throws {
        let data = try await options.client().send("GET", "/v1/gateway/projects/\(Output.escapePath(project))").body["data"] ?? .null
        let origins = data["allowed_origins"] ?? .array([])
        if output.effective == .json { return print(Output.pretty(origins)) }
        guard case .array(let items) = origins else { return }
        for item in items { print(Output.plain(item)) }
    }
}

import ArgumentParser
import CofferCore

/// `coffer gateway project list`.
struct GatewayProjectList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List project names.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        let keys = try await options.client().send("GET", "/v1/gateway/projects").body["data"]?["keys"] ?? .array([])
        if output.effective == .json { return print(Output.pretty(keys)) }
        guard case .array(let names) = keys else { return }
        for name in names { print(Output.plain(name)) }
    }
}

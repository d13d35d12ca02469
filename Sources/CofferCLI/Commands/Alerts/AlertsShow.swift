import ArgumentParser
import CofferCore

/// `coffer alerts show ID`.
struct AlertsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one alert.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "The alert id (alr_…).") var id: String

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/alerts/\(Output.escapePath(id))")
        output.print(reply.body["data"] ?? .null)
    }
}

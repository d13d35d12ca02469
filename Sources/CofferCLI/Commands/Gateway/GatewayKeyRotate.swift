import ArgumentParser
import CofferCore

/// `coffer gateway key rotate PROJECT [--overlap 5]`: replaces the managed publishable key now.
struct GatewayKeyRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Replace the project's publishable key now (the old one works for --overlap minutes).")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String
    @Option(help: "Minutes the previous key keeps working (0-1440).") var overlap = 0

    func run() async throws {
        let path = "/v1/gateway/projects/\(Output.escapePath(project))/publishable-key/rotate"
        let data = try await options.client().send("POST", path, body: ["overlap_minutes": .int(overlap)]).body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        print(data["key"]?.stringValue ?? "")
        print("rotates \(data["rotates_at"]?.stringValue ?? "")")
    }
}

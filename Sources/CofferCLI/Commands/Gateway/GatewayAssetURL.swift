import ArgumentParser
import CofferCore

/// `coffer gateway asset url PROJECT NAME --ttl 4h`: an expiring URL for one asset.
struct GatewayAssetURL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "url", abstract: "Make an expiring URL for one asset (default 4h, at most 168h).",
        discussion: """
            The URL carries a signed token bound to this asset; it is refused for any other asset and
            after it expires.

            Example:
              coffer gateway asset url weather report.js --ttl 1h
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String
    @Argument(help: "Asset name.") var name: String
    @Option(help: "How long the URL works (e.g. 30m, 4h).") var ttl = "4h"

    func run() async throws {
        let path = "/v1/gateway/projects/\(Output.escapePath(project))/assets/\(Output.escapePath(name))/url"
        let data = try await options.client().send("POST", path, body: ["ttl": .string(ttl)]).body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        print(data["url"]?.stringValue ?? "")
        print("expires \(data["expires_at"]?.stringValue ?? "")")
    }
}

import ArgumentParser
import CofferCore

/// `coffer gateway asset list PROJECT`.
struct GatewayAssetList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List a project's assets.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String

    func run() async throws {
        let data = try await options.client().send("GET", "/v1/gateway/projects/\(Output.escapePath(project))/assets").body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data["assets"] ?? .array([]))) }
        guard case .array(let assets) = data["assets"] ?? .null else { return }
        for asset in assets {
            let name = asset["name"]?.stringValue ?? ""
            let gated = asset["require_token"] == .bool(true) ? "  token required" : ""
            print("\(name)  \(asset["size"]?.intValue ?? 0) bytes  \(asset["integrity"]?.stringValue ?? "")\(gated)")
        }
    }
}

import ArgumentParser
import CofferCore

/// `coffer transit rotate NAME`.
struct TransitRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate", abstract: "Add a new latest version.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String

    func run() async throws {
        let reply = try await options.client().send("POST", "/v1/transit/keys/\(Output.escapePath(name))/rotate")
        print("latest version \(Output.plain(reply.body["data"]?["latest_version"] ?? .null))")
    }
}

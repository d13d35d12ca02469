import ArgumentParser
import CofferCore

/// `coffer keys show ID`.
struct KeysShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Describe an API key.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The key id (key_…).") var id: String
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/keys/\(Output.escapePath(id))")
        let data = reply.body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        KeyPrinter.print(data)
    }
}

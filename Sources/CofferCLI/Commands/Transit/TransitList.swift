import ArgumentParser
import CofferCore

/// `coffer transit list`.
struct TransitList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List key names.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/transit/keys?list=true")
        guard case .array(let names) = reply.body["data"]?["keys"] ?? .null else { return }
        for name in names { print(Output.plain(name)) }
    }
}

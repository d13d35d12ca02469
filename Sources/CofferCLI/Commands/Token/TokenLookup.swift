import ArgumentParser
import CofferCore

/// `coffer token lookup [--accessor A]`: describes your token, or another by accessor.
struct TokenLookup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lookup", abstract: "Describe a token (yours by default).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Accessor of another token.") var accessor: String?
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        let client = options.client()
        let reply =
            if let accessor {
                try await client.send("POST", "/v1/auth/token/lookup-accessor", body: ["accessor": .string(accessor)])
            } else {
                try await client.send("GET", "/v1/auth/token/lookup-self")
            }
        output.print(reply.body["data"] ?? .null)
    }
}

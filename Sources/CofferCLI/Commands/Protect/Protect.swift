import ArgumentParser
import CofferCore
import Foundation

/// `coffer protect --policy NAME [--file F] [--json]`: prints the protected string.
struct Protect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Protect standard input (or --file) under a policy.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Policy name.") var policy: String
    @OptionGroup var input: InputOptions
    @Flag(help: "The input is JSON (kept as JSON; unprotect prints it back as JSON).") var json = false

    func run() async throws {
        let bytes = try input.read()
        let body: JSONValue
        if json {
            guard let value = JSONValue.parse(bytes) else { throw CLIError("the input is not valid JSON") }
            body = ["payload": value]
        } else {
            body = ["payload_base64": .string(Base64.encode(bytes))]
        }
        let reply = try await options.client().send("POST", "/v1/protect/\(Output.escapePath(policy))", body: body)
        print(Output.plain(reply.body["data"]?["protected"] ?? .null))
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// `coffer unprotect --policy NAME [--file F]`: the payload back (JSON payloads as JSON, others as raw bytes).
struct Unprotect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unprotect a protected string from standard input (or --file).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Policy name.") var policy: String
    @OptionGroup var input: InputOptions

    func run() async throws {
        let reply = try await options.client().send(
            "POST", "/v1/unprotect/\(Output.escapePath(policy))", body: ["protected": .string(try input.text())])
        let data = reply.body["data"] ?? .null
        if let payload = data["payload"] {
            print(Output.plain(payload))
        } else if let encoded = data["payload_base64"]?.stringValue, let bytes = Base64.decode(encoded) {
            RawOutput.write(Array(bytes))
        }
    }
}

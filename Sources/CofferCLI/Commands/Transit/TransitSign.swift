import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit sign NAME [--file F]`: prints `vault:vN:<signature>`.
struct TransitSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sign", abstract: "Sign standard input (or --file).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @OptionGroup var input: InputOptions

    func run() async throws {
        let reply = try await options.client().send(
            "POST", "/v1/transit/sign/\(Output.escapePath(name))", body: ["input": .string(Base64.encode(try input.read()))])
        print(Output.plain(reply.body["data"]?["signature"] ?? .null))
    }
}

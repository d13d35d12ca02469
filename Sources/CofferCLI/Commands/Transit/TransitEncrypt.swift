import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit encrypt NAME [--file F] [--context C] [--aad A]`: prints `vault:vN:…`.
struct TransitEncrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encrypt", abstract: "Encrypt standard input (or --file).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @OptionGroup var input: InputOptions
    @OptionGroup var binding: BindingOptions

    func run() async throws {
        var body: [String: JSONValue] = ["plaintext": .string(Base64.encode(try input.read()))]
        binding.apply(to: &body)
        let reply = try await options.client().send("POST", "/v1/transit/encrypt/\(Output.escapePath(name))", body: .object(body))
        print(Output.plain(reply.body["data"]?["ciphertext"] ?? .null))
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit decrypt NAME [--file F] [--context C] [--aad A]`: the ciphertext from standard input, plaintext bytes out.
struct TransitDecrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt", abstract: "Decrypt a vault:vN: ciphertext from standard input (or --file).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @OptionGroup var input: InputOptions
    @OptionGroup var binding: BindingOptions

    func run() async throws {
        var body: [String: JSONValue] = ["ciphertext": .string(try input.text())]
        binding.apply(to: &body)
        let reply = try await options.client().send("POST", "/v1/transit/decrypt/\(Output.escapePath(name))", body: .object(body))
        guard let encoded = reply.body["data"]?["plaintext"]?.stringValue, let bytes = Base64.decode(encoded) else {
            throw CLIError("the server answered without a plaintext")
        }
        RawOutput.write(Array(bytes))
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit encrypt NAME [--file F] [--context C] [--aad A]`: prints `vault:vN:…`.
struct TransitEncrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "encrypt", abstract: "Encrypt standard input (or --file).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @OptionGroup var input: InputOptions
    @Option(help: "Derivation context (text), for derived keys.") var context: String?
    @Option(help: "Associated data (text) bound to the ciphertext.") var aad: String?

    func run() async throws {
        var body: [String: JSONValue] = ["plaintext": .string(Data(try input.read()).base64EncodedString())]
        if let context { body["context"] = .string(Data(context.utf8).base64EncodedString()) }
        if let aad { body["associated_data"] = .string(Data(aad.utf8).base64EncodedString()) }
        let reply = try await options.client().send("POST", "/v1/transit/encrypt/\(Output.escapePath(name))", body: .object(body))
        print(Output.plain(reply.body["data"]?["ciphertext"] ?? .null))
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit verify NAME --signature S [--file F]`: exit status 1 unless valid.
struct TransitVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify a signature over standard input (exit 1 unless valid).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @Option(help: "The vault:vN: signature.") var signature: String
    @OptionGroup var input: InputOptions

    func run() async throws {
        let reply = try await options.client().send(
            "POST", "/v1/transit/verify/\(Output.escapePath(name))",
            body: ["input": .string(Base64.encode(try input.read())), "signature": .string(signature)])
        let valid = reply.body["data"]?["valid"]?.boolValue == true
        print(valid ? "valid" : "invalid")
        if !valid { throw ExitCode(1) }
    }
}

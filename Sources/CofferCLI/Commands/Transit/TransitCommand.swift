import ArgumentParser
import CofferCore
import Foundation

/// `coffer transit …`: named keys and encryption as a service.
struct TransitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transit", abstract: "Named encryption and signing keys (Vault's transit API, post-quantum included).",
        subcommands: [
            TransitCreate.self, TransitRead.self, TransitList.self, TransitRotate.self, TransitConfig.self, TransitTrim.self, TransitDelete.self,
            TransitEncrypt.self, TransitDecrypt.self, TransitSign.self, TransitVerify.self,
        ])
}

/// Where a command's input comes from: `--file PATH`, else standard input.
struct InputOptions: ParsableArguments {
    @Option(help: "Read the input from this file (default: standard input).") var file: String?

    /// All input bytes.
    func read() throws -> [UInt8] {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            return Array(data)
        }
        return Array(FileHandle.standardInput.readDataToEndOfFile())
    }

    /// The input as text without a trailing newline.
    func text() throws -> String {
        String(decoding: try read(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `--context` and `--aad` of encrypt and decrypt, sent base64-encoded as Vault expects.
struct BindingOptions: ParsableArguments {
    @Option(help: "Derivation context (text), for derived keys.") var context: String?
    @Option(help: "Associated data (text) bound to the ciphertext.") var aad: String?

    /// Adds the options given to a request body.
    func apply(to body: inout [String: JSONValue]) {
        if let context { body["context"] = .string(Base64.encode(context.utf8)) }
        if let aad { body["associated_data"] = .string(Base64.encode(aad.utf8)) }
    }
}

/// Writes raw bytes to standard output.
enum RawOutput {
    static func write(_ bytes: [UInt8]) { FileHandle.standardOutput.write(Data(bytes)) }
}

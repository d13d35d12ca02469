import ArgumentParser
import CofferCore
import Foundation

/// `coffer audit verify [--checkpoints FILE] [--public-key HEX]`: walks the chain; exit 1 on the first broken link.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify the audit chain (and exported checkpoints).")

    @OptionGroup var options: ClientOptions
    @Option(help: "JSON-lines file of checkpoints written by `coffer audit checkpoint --out`.") var checkpoints: String?
    @Option(help: "Trusted checkpoint public key (hex); default: the key inside each checkpoint.") var publicKey: String?
    @Flag(help: "Also check the checkpoints stored in Coffer.") var stored = false

    func run() async throws {
        var body: [String: JSONValue] = ["use_stored_checkpoints": .bool(stored)]
        if let checkpoints {
            guard let data = FileManager.default.contents(atPath: checkpoints) else { throw CLIError("cannot read \(checkpoints)") }
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            body["checkpoints"] = .array(
                try lines.map { line in
                    guard let value = JSONValue.parse(Array(line.utf8)) else { throw CLIError("\(checkpoints): a line is not JSON") }
                    return value
                })
        }
        if let publicKey { body["public_key"] = .string(publicKey) }
        let data = try await options.client().send("POST", "/v1/audit/verify", body: .object(body)).body["data"] ?? .null
        if data["ok"] == true {
            print(
                "OK: \(data["checked"]?.intValue ?? 0) entries verified up to sequence \(data["last_sequence"]?.intValue ?? 0); "
                    + "\(data["checkpoints_checked"]?.intValue ?? 0) checkpoints matched")
        } else {
            print("BROKEN at sequence \(data["first_broken_sequence"]?.intValue ?? 0): \(data["reason"]?.stringValue ?? "")")
            throw ExitCode(1)
        }
    }
}

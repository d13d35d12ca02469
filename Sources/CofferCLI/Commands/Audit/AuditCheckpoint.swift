import ArgumentParser
import CofferCore
import Foundation

/// `coffer audit checkpoint [--out FILE]`: signs the current head; appends the checkpoint to FILE (kept elsewhere).
struct AuditCheckpoint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checkpoint", abstract: "Sign a checkpoint of the audit chain's head.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Append the checkpoint as a JSON line to this file.") var out: String?

    func run() async throws {
        let checkpoint = try await options.client().send("POST", "/v1/audit/checkpoint").body["data"] ?? .null
        let line = String(decoding: checkpoint.canonicalBytes(), as: UTF8.self)
        if let out {
            if !FileManager.default.fileExists(atPath: out) { _ = FileManager.default.createFile(atPath: out, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: out) else { throw CLIError("cannot write \(out)") }
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
            try handle.close()
            print("Checkpoint at sequence \(checkpoint["sequence"]?.intValue ?? 0) appended to \(out)")
        } else {
            print(line)
        }
    }
}

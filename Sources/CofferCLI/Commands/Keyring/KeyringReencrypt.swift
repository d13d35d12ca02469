import ArgumentParser
import CofferCore

/// `coffer keyring reencrypt [--batch-size N] [--max-batches N]`: resumable; run again to continue.
struct KeyringReencrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reencrypt", abstract: "Re-encrypt secrets still sealed with older data keys.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Versions per batch.") var batchSize: Int = 100
    @Option(help: "Stop after this many batches (resume later).") var maxBatches: Int?

    func run() async throws {
        var body: [String: JSONValue] = ["batch_size": .int(batchSize)]
        if let maxBatches { body["max_batches"] = .int(maxBatches) }
        let reply = try await options.client().send("POST", "/v1/sys/keyring/reencrypt", body: .object(body))
        let data = reply.body["data"] ?? .null
        print(
            "Re-encrypted \(data["reencrypted"]?.intValue ?? 0) in \(data["batches"]?.intValue ?? 0) batches; \(data["remaining"]?.intValue ?? 0) remaining"
        )
    }
}

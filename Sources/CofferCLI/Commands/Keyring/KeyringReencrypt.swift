import ArgumentParser
import CofferCore

/// `coffer keyring reencrypt [--batch-size N] [--max-batches N]`: re-encrypts in bounded server calls (at
/// most 100 batches each), printing progress after each, until nothing remains or `--max-batches` is
/// reached. Resumable: run it again to continue.
struct KeyringReencrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reencrypt", abstract: "Re-encrypt secrets still sealed with older data keys.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Versions per batch.") var batchSize: Int = 100
    @Option(help: "Stop after this many batches (resume later).") var maxBatches: Int?

    func run() async throws {
        let client = options.client()
        var batchesLeft = maxBatches ?? .max
        var total = 0
        var batches = 0
        while batchesLeft > 0 {
            let body: JSONValue = ["batch_size": .int(batchSize), "max_batches": .int(min(batchesLeft, 100))]
            let data = try await client.send("POST", "/v1/sys/keyring/reencrypt", body: body).body["data"] ?? .null
            let done = data["reencrypted"]?.intValue ?? 0
            let ran = data["batches"]?.intValue ?? 0
            let remaining = data["remaining"]?.intValue ?? 0
            total += done
            batches += ran
            batchesLeft -= max(ran, 1)
            print("Re-encrypted \(total) in \(batches) batches; \(remaining) remaining")
            if remaining == 0 || done == 0 { break }
        }
    }
}

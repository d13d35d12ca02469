import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer operator keys-fill`: stores many API keys at once, for the verify benchmark (1,000,000 keys).
/// Hidden: a benchmark helper. With `--sample-file`, the first `--sample` keys are written to that file
/// (created 0600) so a load generator can present them; nothing else of the keys is kept.
struct OperatorKeysFill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys-fill", abstract: "Benchmark helper: store many API keys.", shouldDisplay: false)

    @Option(help: "Storage URL.") var storage: String
    @Option(help: "Tenant name.") var tenant: String = "root"
    @Option(help: "Keys to store.") var count: Int = 1_000_000
    @Option(help: "Keys per transaction.") var batch: Int = 10_000
    @Option(help: "Write the first --sample keys to this new file (0600).") var sampleFile: String?
    @Option(help: "How many keys to write to --sample-file.") var sample: Int = 10_000

    func run() async throws {
        let (tenantName, count, batch, sampleFile, sample) = (tenant, count, batch, sampleFile, sample)
        await ServerRunner.withRuntime(config: nil, storage: storage) { _, runtime, _ in
            guard let target = try await runtime.storage.tenants.tenant(named: tenantName) else { throw CLIError("no tenant \(tenantName)") }
            var sampled: [String] = []
            let started = Date()
            var written = 0
            while written < count {
                let size = min(batch, count - written)
                let now = runtime.clock.nowMillis
                let kind = APIKeyFormat.Kind.forTenant(target.environment, admin: false)
                let hasher = try runtime.keyring.credentialHasher()
                let records = (0..<size).map { index in
                    let key = APIKeyFormat.generate(kind)
                    if sampled.count < sample && sampleFile != nil { sampled.append(key) }
                    return APIKeyRecord(
                        id: APIKeyService.newID(), tenantID: target.id,
                        hash: hasher.hash(key),
                        displayPrefix: APIKeyFormat.displayPrefix(key), kind: kind, name: "bench-\(written + index)", scopes: ["orders:read"],
                        createdAt: now, metadata: ["plan": "bench"])
                }
                try await runtime.storage.apiKeys.insertMany(records)
                written += size
            }
            if let sampleFile {
                guard
                    FileManager.default.createFile(
                        atPath: sampleFile, contents: Data((sampled.joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600])
                else { throw CLIError("cannot write \(sampleFile)") }
            }
            ServerRunner.say("stored \(written) keys in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}

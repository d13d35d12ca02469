import ArgumentParser
import CofferCore
import CofferServer
import CofferStore
import Foundation

/// `coffer operator kv-fill`: stores many KV secrets at once (one version each, sealed under the
/// tenant's active data key exactly as a write would), for the re-encryption benchmark (1,000,000
/// secrets). Hidden: a benchmark helper writing rows in bulk, without audit entries.
struct OperatorKVFill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv-fill", abstract: "Benchmark helper: store many KV secrets.", shouldDisplay: false)

    @Option(help: "Storage URL.") var storage: String
    @Option(help: "Tenant name.") var tenant: String = "root"
    @Option(help: "Secrets to store (under secret/bench/NNNNNNN).") var count: Int = 1_000_000
    @Option(help: "Secrets per transaction.") var batch: Int = 5_000

    func run() async throws {
        let (tenantName, count, batch) = (tenant, count, batch)
        await ServerRunner.withRuntime(config: nil, storage: storage) { _, runtime, _ in
            guard let target = try await runtime.storage.tenants.tenant(named: tenantName) else { throw CLIError("no tenant \(tenantName)") }
            guard let database = (runtime.storage as? SQLStorage)?.database else { throw CLIError("kv-fill needs SQL storage") }
            let key = try await runtime.keyring.dataKey(tenantID: target.id, version: target.activeKeyVersion)
            let started = Date()
            var written = 0
            while written < count {
                let size = min(batch, count - written)
                let now = runtime.clock.nowMillis
                let first = written
                try await database.transaction(in: .tenant(target.id)) { tx in
                    for chunk in stride(from: 0, to: size, by: 500) {
                        let rows = (chunk..<min(chunk + 500, size)).map { first + $0 }
                        var metadata: [SQLValue] = [.text(target.id), .int(now)]
                        var versions: [SQLValue] = [.text(target.id), .int(now), .int(Int64(key.version))]
                        var metadataRows: [String] = []
                        var versionRows: [String] = []
                        for index in rows {
                            let path = String(format: "bench/%07d", index)
                            let sealed = try SealedBox.seal(
                                JSONValue.object(["password": .string("value-\(index)"), "user": "svc"]).canonicalBytes(), key: key.key,
                                keyVersion: key.version, aad: .secret(tenantID: target.id, mount: "secret", path: path, version: 1))
                            metadataRows.append("($1, 'secret', $\(metadata.count + 1), 1, 1, 10, 0, 0, '{}', $2, $2)")
                            metadata.append(.text(path))
                            versionRows.append("($1, 'secret', $\(versions.count + 1), 1, $2, NULL, 0, $\(versions.count + 2), $3, '{}')")
                            versions += [.text(path), .blob(sealed)]
                        }
                        try await tx.query(
                            """
                            INSERT INTO kv_metadata (tenant_id, mount, path, current_version, oldest_version, max_versions, cas_required,
                              delete_version_after, custom_metadata, created_at, updated_at) VALUES \(metadataRows.joined(separator: ", "))
                            """, metadata)
                        try await tx.query(
                            """
                            INSERT INTO kv_versions (tenant_id, mount, path, version, created_at, deleted_at, destroyed, blob, key_version,
                              references_json) VALUES \(versionRows.joined(separator: ", "))
                            """, versions)
                    }
                }
                written += size
            }
            ServerRunner.say("stored \(written) secrets in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}

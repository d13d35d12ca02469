import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer operator audit-fill`: appends synthetic entries to a tenant's chain, for the verify benchmark.
/// Hidden: it exists to measure `audit verify` on large chains, not for production use.
struct OperatorAuditFill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-fill", abstract: "Benchmark helper: append synthetic audit entries.", shouldDisplay: false)

    @Option(help: "Storage URL.") var storage: String
    @Option(help: "Tenant name.") var tenant: String = "root"
    @Option(help: "Entries to append.") var count: Int = 1_000_000
    @Option(help: "Entries per transaction.") var batch: Int = 10_000

    func run() async throws {
        let (tenantName, count, batch) = (tenant, count, batch)
        await ServerRunner.withRuntime(config: nil, storage: storage) { _, runtime, _ in
            guard let target = try await runtime.storage.tenants.tenant(named: tenantName) else { throw CLIError("no tenant \(tenantName)") }
            let redactor = try runtime.audit.redactor(tenantID: target.id)
            let started = Date()
            var written = 0
            while written < count {
                let size = min(batch, count - written)
                let now = runtime.clock.nowMillis
                let records = (0..<size).map { index in
                    (
                        tenantID: target.id,
                        record: AuditRecord(
                            time: now, actor: AuditActor(kind: "token", id: "bench\(index % 7)", role: "modifier", displayName: "bench"),
                            operation: index % 3 == 0 ? "kv.write" : "kv.read", resourceType: "kv", resourceID: "secret/bench/\(written + index)",
                            clientIP: "127.0.0.1", userAgent: "coffer-bench", requestID: UUID().uuidString.lowercased(), status: 200, errorCode: "",
                            request: redactor.redact(["data": ["password": .string("value-\(written + index)")]]),
                            details: ["algorithm": "aes-256-gcm"])
                    )
                }
                _ = try await runtime.audit.store.append(records)
                written += size
            }
            ServerRunner.say("appended \(written) entries in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        }
    }
}

import CofferCore
import Foundation

/// `coffer scan --revoke`: reports the keys found to `POST /v1/keys/leaked` (one request per file, at
/// most 100 keys each; reason `leaked: <file>`) and revokes found tokens with `auth/token/revoke`.
/// Prints one line per credential on standard error, masked.
struct LeakRevoker {
    let client: CofferClient

    func revoke(_ findings: [ScanFinding]) async throws {
        var seen = Set<String>()
        let unique = findings.filter { seen.insert($0.finding.value).inserted }
        let keys = unique.filter { $0.finding.kind == .apiKey || $0.finding.kind == .publishableKey }
        var bySource: [(String, [ScanFinding])] = []
        for item in keys {
            let source = item.commit.map { "\(item.path) (commit \($0.prefix(12)))" } ?? item.path
            if let index = bySource.firstIndex(where: { $0.0 == source }) {
                bySource[index].1.append(item)
            } else {
                bySource.append((source, [item]))
            }
        }
        for (source, items) in bySource {
            for start in stride(from: 0, to: items.count, by: 100) {
                let batch = Array(items[start..<min(start + 100, items.count)])
                let reply = try await client.send(
                    "POST", "/v1/keys/leaked", body: ["keys": .array(batch.map { .string($0.finding.value) }), "source": .string(source)])
                var statuses: [JSONValue] = []
                if case .array(let items)? = reply.body["data"]?["keys"] { statuses = items }
                for (index, item) in batch.enumerated() {
                    let status = index < statuses.count ? (statuses[index]["status"]?.stringValue ?? "reported") : "reported"
                    say("\(status.replacingOccurrences(of: "_", with: " ")): \(item.finding.masked) at \(item.location)")
                }
            }
        }
        for item in unique where item.finding.kind == .token {
            let reply = try await client.send("POST", "/v1/auth/token/revoke", body: ["token": .string(item.finding.value)], allow: [400, 403, 404])
            say("\(reply.status < 300 ? "revoked" : "not revoked (not a token you can reach)"): \(item.finding.masked) at \(item.location)")
        }
        for item in unique where item.finding.kind == .secretID {
            say("not revoked (destroy it at auth/<mount>/role/<role>/secret-id/destroy): \(item.finding.masked) at \(item.location)")
        }
    }

    func say(_ line: String) {
        FileHandle.standardError.write(Data("coffer scan: \(line)\n".utf8))
    }
}

import CofferCore
import Foundation

/// Reads the latest data at a KV path as environment-style string pairs.
enum SecretFetcher {
    static func fetch(_ client: CofferClient, mount: String, path: String) async throws -> [(String, String)] {
        let reply = try await client.send("GET", "/v1/\(mount)/data/\(Output.escapePath(path))")
        guard let data = reply.body["data"]?["data"]?.objectValue else {
            throw CLIError("no data at \(path)")
        }
        return data.keys.sorted().map { ($0, Output.plain(data[$0] ?? .null)) }
    }

    /// Whether `name` is a portable environment variable name.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(48...57).contains(first) else { return false }
        return name.utf8.allSatisfy { (65...90).contains($0) || (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}

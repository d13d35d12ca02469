import ArgumentParser
import CofferCore

/// `coffer transit config NAME [--min-decryption-version N] [--min-encryption-version N] [--deletion-allowed B] [--expires-at T] [--overlap D]`.
struct TransitConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Change a key's version rules, expiry or overlap.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @Option(help: "Oldest version that may decrypt or verify (older ones are retired).") var minDecryptionVersion: Int?
    @Option(help: "Oldest version that may encrypt or sign (0 = latest only).") var minEncryptionVersion: Int?
    @Option(help: "true or false.") var deletionAllowed: Bool?
    @Option(help: "Expiry of the whole key (RFC 3339).") var expiresAt: String?
    @Option(help: "Overlap after rotations, e.g. 24h.") var overlap: String?

    func run() async throws {
        var body: [String: JSONValue] = [:]
        if let minDecryptionVersion { body["min_decryption_version"] = .int(minDecryptionVersion) }
        if let minEncryptionVersion { body["min_encryption_version"] = .int(minEncryptionVersion) }
        if let deletionAllowed { body["deletion_allowed"] = .bool(deletionAllowed) }
        if let expiresAt { body["expires_at"] = .string(expiresAt) }
        if let overlap { body["overlap_period"] = .string(overlap) }
        guard !body.isEmpty else { throw ValidationError("nothing to change") }
        let reply = try await options.client().send("POST", "/v1/transit/keys/\(Output.escapePath(name))/config", body: .object(body))
        print(Output.pretty(reply.body["data"] ?? .null))
    }
}

import ArgumentParser
import CofferCore

/// `coffer transit create NAME [--type T] [--derived] [--overlap 1h] [--expires-at T] [--auto-rotate 30d] [--deletion-allowed]`.
struct TransitCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a named key.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @Option(help: "aes256-gcm96, chacha20-poly1305, ed25519, ecdsa-p256, hmac, ml-dsa-65, ml-kem-768, x-wing or ed25519-ml-dsa-65.")
    var type: String = "aes256-gcm96"
    @Flag(help: "Derive encryption keys per context.") var derived = false
    @Option(help: "How long replaced versions keep decrypting after a rotation, e.g. 24h.") var overlap: String?
    @Option(help: "Expiry of the whole key (RFC 3339).") var expiresAt: String?
    @Option(help: "Rotate automatically after this long, e.g. 30d.") var autoRotate: String?
    @Flag(help: "Allow deleting the key later.") var deletionAllowed = false

    func run() async throws {
        var body: [String: JSONValue] = ["type": .string(type), "derived": .bool(derived), "deletion_allowed": .bool(deletionAllowed)]
        if let overlap { body["overlap_period"] = .string(overlap) }
        if let expiresAt { body["expires_at"] = .string(expiresAt) }
        if let autoRotate { body["auto_rotate_period"] = .string(autoRotate) }
        let reply = try await options.client().send("POST", "/v1/transit/keys/\(Output.escapePath(name))", body: .object(body))
        print(Output.pretty(reply.body["data"] ?? .null))
    }
}

import ArgumentParser
import CofferCore

/// `coffer keys update ID [--name] [--scope]… [--ttl|--expires-at|--no-expiry] [--allow-ip]… [--any-ip] [--rate-limit] [--quota] [--meta]…`.
struct KeysUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change an API key's name, scopes, expiry, allow-list or limits.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The key id (key_…).") var id: String
    @OptionGroup var settings: KeySettingsOptions
    @Flag(help: "Remove the expiry.") var noExpiry = false
    @Flag(help: "Remove the IP allow-list.") var anyIP = false
    @Flag(help: "Remove all scopes.") var noScopes = false

    func run() async throws {
        var body = try settings.body()
        if noExpiry { body["expires_at"] = .null }
        if anyIP { body["allowed_ips"] = .array([]) }
        if noScopes { body["scopes"] = .array([]) }
        guard !body.isEmpty else { throw ValidationError("nothing to change") }
        let reply = try await options.client().send("PATCH", "/v1/keys/\(Output.escapePath(id))", body: .object(body))
        KeyPrinter.print(reply.body["data"] ?? .null)
    }
}

import ArgumentParser
import CofferCore

/// `coffer token create [--role R] [--ttl 24h] [--display-name N]`: prints the new token once.
struct TokenCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create a token (printed once).",
        discussion: """
            Examples:
              coffer token create --role viewer --ttl 24h
              coffer token create --role modifier --ttl 1h --display-name ci --quiet > ci-token.txt
            """)

    @OptionGroup var options: ClientOptions
    @Option(help: "viewer, modifier, auditor or admin (default: your own role).") var role: String?
    @Option(help: "Time to live, e.g. 1h or 30d (default: none).") var ttl: String?
    @Option(help: "A label for the token.") var displayName: String = "cli"
    @Flag(help: "Print only the token.") var quiet = false

    func run() async throws {
        var body: [String: JSONValue] = ["display_name": .string(displayName)]
        if let role { body["role"] = .string(role) }
        if let ttl { body["ttl"] = .string(ttl) }
        let reply = try await options.client().send("POST", "/v1/auth/token/create", body: .object(body))
        let auth = reply.body["auth"] ?? .null
        let token = auth["client_token"]?.stringValue ?? ""
        if quiet { return print(token) }
        print("token     \(token)")
        print("accessor  \(auth["accessor"]?.stringValue ?? "")")
        print("role      \(auth["coffer_role"]?.stringValue ?? "")")
        print("tenant    \(auth["coffer_tenant"]?.stringValue ?? "")")
        print("The token is shown once; store it now.")
    }
}

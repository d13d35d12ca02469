import ArgumentParser
import CofferCore

/// `coffer token revoke [--accessor A]`: revokes your token, or another by accessor.
struct TokenRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a token (yours by default).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Accessor of the token to revoke.") var accessor: String?

    func run() async throws {
        let client = options.client()
        if let accessor {
            try await client.send("POST", "/v1/auth/token/revoke-accessor", body: ["accessor": .string(accessor)])
        } else {
            try await client.send("POST", "/v1/auth/token/revoke-self")
        }
        print("Revoked")
    }
}

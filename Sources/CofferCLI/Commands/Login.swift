import ArgumentParser
import CofferCore
import Foundation

/// `coffer login`: checks a token against the server and saves it to the 0600 token file.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a token for later commands (read from standard input).",
        discussion: """
            The token is checked against the server, then saved to ~/.config/coffer/token (0600). It is read
            from standard input, never from an argument (arguments show up in ps and shell history).

            Examples:
              coffer login < token.txt
              pass show coffer/token | coffer login --address https://coffer.internal:8200
            """)

    @OptionGroup var options: ClientOptions

    func run() async throws {
        guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw CLIError("pipe the token on standard input, e.g. `coffer login < token.txt`")
        }
        var environment = options.environment()
        environment.use(token: line, from: "standard input")
        let reply = try await CofferClient(environment: environment).send("GET", "/v1/auth/token/lookup-self")
        guard let token = environment.token else { throw CLIError("no token on standard input") }
        try TokenFile.write(token)
        let role = reply.body["data"]?["coffer_role"]?.stringValue ?? "?"
        let tenant = reply.body["data"]?["coffer_tenant"]?.stringValue ?? "?"
        print("Logged in: role \(role) in tenant \(tenant). Token saved to \(TokenFile.path()).")
    }
}

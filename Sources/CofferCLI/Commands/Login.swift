import ArgumentParser
import CofferCore
import Foundation

/// `coffer login`: saves a token for later commands — one given on standard input, or a session from
/// an auth method (userpass, AppRole, or OIDC in the browser, like `vault login -method=oidc`).
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save a token, or log in through an auth method, for later commands.",
        discussion: """
            The token is checked against the server, then saved to ~/.config/coffer/token (0600). Tokens,
            passwords and secret IDs are read from standard input, never from an argument (arguments show up
            in ps and shell history).

            Examples:
              coffer login < token.txt
              pass show coffer/token | coffer login --address https://coffer.internal:8200
              coffer login --method userpass --username alice < password.txt
              coffer login --method approle --role-id 7f3c… < secret-id.txt
              coffer login --method oidc --role people        # opens the browser; waits on localhost:8250
            """)

    @OptionGroup var options: ClientOptions
    @Option(help: "token (default), userpass, approle or oidc.") var method: String = "token"
    @Option(help: "Where the auth method is enabled (default: the method's name).") var path: String?
    @Option(help: "userpass: the username.") var username: String?
    @Option(name: .customLong("role-id"), help: "approle: the role ID.") var roleID: String?
    @Option(help: "oidc: the role (default: the method's default_role).") var role: String?
    @Option(name: .customLong("callback-port"), help: "oidc: the local port the browser returns to.") var callbackPort: Int = 8250
    @Flag(name: .customLong("no-browser"), help: "oidc: print the URL instead of opening a browser.") var noBrowser = false

    func run() async throws {
        var environment = options.environment()
        let mount = path ?? method
        switch method {
        case "token":
            environment.use(token: try Self.secretLine("the token", example: "coffer login < token.txt"), from: "standard input")
        case "userpass":
            guard let username else { throw CLIError("--username is required with --method userpass") }
            let password = try Self.secretLine("the password", example: "coffer login --method userpass --username \(username) < password.txt")
            environment.use(
                token: try await Self.login(environment, "/v1/auth/\(mount)/login/\(username)", ["password": .string(password)]), from: "login")
        case "approle":
            guard let roleID else { throw CLIError("--role-id is required with --method approle") }
            let secretID = try Self.secretLine("the secret ID", example: "coffer login --method approle --role-id … < secret-id.txt")
            let body: JSONValue = ["role_id": .string(roleID), "secret_id": .string(secretID)]
            environment.use(token: try await Self.login(environment, "/v1/auth/\(mount)/login", body), from: "login")
        case "oidc":
            environment.use(token: try await oidc(environment, mount: mount), from: "login")
        default:
            throw CLIError("--method must be token, userpass, approle or oidc")
        }
        let reply = try await CofferClient(environment: environment).send("GET", "/v1/auth/token/lookup-self")
        guard let token = environment.token else { throw CLIError("no token") }
        try TokenFile.write(token)
        let role = reply.body["data"]?["coffer_role"]?.stringValue ?? "?"
        let tenant = reply.body["data"]?["coffer_tenant"]?.stringValue ?? "?"
        print("Logged in: role \(role) in tenant \(tenant). Token saved to \(TokenFile.path()).")
    }

    /// One line of standard input, trimmed; an error naming what was expected otherwise.
    static func secretLine(_ what: String, example: String) throws -> String {
        guard let line = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces), !line.isEmpty else {
            throw CLIError("pipe \(what) on standard input, e.g. `\(example)`")
        }
        return line
    }

    /// POSTs a login without a token and returns the session token.
    static func login(_ environment: ClientEnvironment, _ path: String, _ body: JSONValue) async throws -> String {
        var anonymous = environment
        anonymous.token = nil
        anonymous.tokenProblem = nil
        let reply = try await CofferClient(environment: anonymous).send("POST", path, body: body)
        guard let token = reply.body["auth"]?["client_token"]?.stringValue else { throw CLIError("the server answered no token") }
        return token
    }

    /// The browser flow: ask Coffer for the provider's URL, open it, wait for the redirect on loopback,
    /// hand code and state back to Coffer.
    func oidc(_ environment: ClientEnvironment, mount: String) async throws -> String {
        var anonymous = environment
        anonymous.token = nil
        anonymous.tokenProblem = nil
        let client = CofferClient(environment: anonymous)
        let callback = try LoopbackCallback(port: callbackPort)
        let clientNonce = Base62.encode(SecureRandom.bytes(16), minLength: 22)
        var request: [String: JSONValue] = ["redirect_uri": .string(callback.redirectURI), "client_nonce": .string(clientNonce)]
        if let role { request["role"] = .string(role) }
        let started = try await client.send("POST", "/v1/auth/\(mount)/oidc/auth_url", body: .object(request))
        guard let url = started.body["data"]?["auth_url"]?.stringValue, !url.isEmpty else { throw CLIError("the server answered no auth_url") }
        print("Complete the login in your browser:\n\n    \(url)\n\nWaiting for the browser on \(callback.redirectURI) …")
        fflush(nil)
        if !noBrowser {
            let opener = Process()
            opener.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            opener.arguments = ["xdg-open", url]
            opener.standardOutput = FileHandle.nullDevice
            opener.standardError = FileHandle.nullDevice
            try? opener.run()
        }
        let redirect = try await callback.wait(seconds: 300)
        let query = [("state", redirect.state), ("code", redirect.code), ("client_nonce", clientNonce)]
            .map { "\($0.0)=\(IdentityService.formEncode($0.1))" }.joined(separator: "&")
        let reply = try await client.send("GET", "/v1/auth/\(mount)/oidc/callback?\(query)")
        guard let token = reply.body["auth"]?["client_token"]?.stringValue else { throw CLIError("the server answered no token") }
        return token
    }
}

import ArgumentParser
import CofferCore

/// `coffer keys verify KEY|- [--scope S]… [--ip ADDR] [--cost N]`: prints the verdict; exits 1 unless VALID.
struct KeysVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Verify an API key against the server (exit status 1 unless VALID).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The key, or - to read it from standard input.") var key: String
    @Option(name: .customLong("scope"), help: "A scope the key must hold. Repeatable.") var scopes: [String] = []
    @Option(help: "The client address to check against the key's allow-list.") var ip: String?
    @Option(help: "How many units of the rate limit and quota this use costs.") var cost: Int = 1

    func run() async throws {
        var body: [String: JSONValue] = ["key": .string(KeyArgument.read(key)), "cost": .int(cost)]
        if !scopes.isEmpty { body["scopes"] = .array(scopes.map(JSONValue.string)) }
        if let ip { body["ip"] = .string(ip) }
        let reply = try await options.client().send("POST", "/v1/keys/verify", body: .object(body))
        print(Output.pretty(reply.body))
        if reply.body["valid"]?.boolValue != true { throw ExitCode(1) }
    }
}

import ArgumentParser
import CofferCore

/// `coffer keys create --name N [--scope S]… [--ttl 90d] [--allow-ip CIDR]… [--rate-limit 100/1m] [--quota 10000/day] [--admin]`.
struct KeysCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an API key (printed once).",
        discussion: """
            Examples:
              coffer keys create --name billing --scope orders:read --ttl 90d
              coffer keys create --name partner --scope orders:read --allow-ip 10.0.0.0/8 --rate-limit 100/1m --quota 100000/month
              coffer keys create --name web --publishable --scope proxy:call:weather --rate-limit 60/1m
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var settings: KeySettingsOptions
    @Flag(help: "Create an sk_admin_ key (admins only).") var admin = false
    @Flag(help: "Create a publishable pk_ key for browsers: gateway calls from an allowed Origin only, proxy:call scopes only.")
    var publishable = false
    @Flag(help: "Print only the key.") var quiet = false

    func run() async throws {
        guard settings.name != nil else { throw ValidationError("--name is required") }
        var body = try settings.body()
        if admin { body["admin"] = true }
        if publishable { body["publishable"] = true }
        let reply = try await options.client().send("POST", "/v1/keys", body: .object(body))
        let data = reply.body["data"] ?? .null
        let key = data["key"]?.stringValue ?? ""
        if quiet { return print(key) }
        print("key            \(key)")
        KeyPrinter.print(data)
        print("The key is shown once; store it now.")
    }
}

import ArgumentParser
import CofferCore

/// `coffer keys rotate ID [--grace 24h]`: a new key with the same settings; the old one works for the grace period.
struct KeysRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Replace an API key; the old key stays valid for --grace (default 0: stops now).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The key id (key_…).") var id: String
    @Option(help: "How long the old key keeps working, e.g. 24h (0 = now).") var grace: String = "0"
    @Flag(help: "Print only the new key.") var quiet = false

    func run() async throws {
        let reply = try await options.client().send("POST", "/v1/keys/\(Output.escapePath(id))/rotate", body: ["grace": .string(grace)])
        let data = reply.body["data"] ?? .null
        let key = data["key"]?.stringValue ?? ""
        if quiet { return print(key) }
        print("key            \(key)")
        KeyPrinter.print(data)
        print("The new key is shown once; store it now.")
    }
}

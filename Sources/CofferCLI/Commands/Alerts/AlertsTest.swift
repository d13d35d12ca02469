import ArgumentParser
import CofferCore

/// `coffer alerts test [--channel NAME]`: one test notification to every channel (or one), once.
struct AlertsTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Send a test alert to every channel (or --channel NAME) and print each outcome (exit 1 if any failed).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Only this channel.") var channel: String?

    func run() async throws {
        var body: [String: JSONValue] = [:]
        if let channel { body["channel"] = .string(channel) }
        let data = try await options.client().send("POST", "/v1/alerts/test", body: .object(body)).body["data"] ?? .null
        guard case .object(let outcomes)? = data["channels"], !outcomes.isEmpty else {
            print("No channels configured: alerts go to the server log only (POST /v1/alerts/channels/<name> adds one).")
            return
        }
        var failed = false
        for name in outcomes.keys.sorted() {
            let outcome = outcomes[name]?.stringValue ?? ""
            print("\(name): \(outcome)")
            if outcome != "delivered" { failed = true }
        }
        if failed { throw ExitCode(1) }
    }
}

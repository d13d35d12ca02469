import ArgumentParser
import CofferCore

/// `coffer alerts rules [NAME --set field=value …]`: every rule in effect, or one rule changed.
struct AlertsRules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "Show the alert rules, or change one (--set threshold=20 --set severity=daily).",
        discussion: """
            Fields: enabled (true/false), severity (page/daily/weekly), threshold, window_seconds, cooldown_seconds, min_requests.

            Examples:
              coffer alerts rules
              coffer alerts rules failed_auth --set threshold=20 --set window_seconds=120
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "A rule to change (failed_auth, failed_auth_address, signature_failure, …).") var name: String?
    @Option(name: .customLong("set"), help: "field=value to change (repeatable).") var changes: [String] = []

    func run() async throws {
        let client = options.client()
        guard let name else {
            guard changes.isEmpty else { throw CLIError("--set needs a rule name") }
            output.print(try await client.send("GET", "/v1/alerts/rules").body["data"]?["rules"] ?? .null)
            return
        }
        guard !changes.isEmpty else { throw CLIError("give at least one --set field=value") }
        var body: [String: JSONValue] = [:]
        for change in changes {
            guard let equals = change.firstIndex(of: "=") else { throw CLIError("--set takes field=value") }
            let field = String(change[..<equals])
            let value = String(change[change.index(after: equals)...])
            if let number = Int(value) {
                body[field] = .int(number)
            } else if value == "true" || value == "false" {
                body[field] = .bool(value == "true")
            } else {
                body[field] = .string(value)
            }
        }
        output.print(try await client.send("POST", "/v1/alerts/rules/\(Output.escapePath(name))", body: .object(body)).body["data"] ?? .null)
    }
}

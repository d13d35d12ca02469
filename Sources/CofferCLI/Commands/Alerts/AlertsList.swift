import ArgumentParser
import CofferCore

/// `coffer alerts list [--state firing|acknowledged|resolved]`: newest first.
struct AlertsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tenant's alerts, newest first.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Only alerts in this state: firing, acknowledged or resolved.") var state: String?
    @Option(help: "At most this many (1-1000).") var limit: Int = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var query = "?limit=\(limit)"
        if let state { query += "&state=\(Output.escapePath(state))" }
        let reply = try await options.client().send("GET", "/v1/alerts" + query)
        let data = reply.body["data"] ?? .null
        if json {
            print(Output.pretty(data))
            return
        }
        guard case .array(let alerts)? = data["alerts"], !alerts.isEmpty else {
            print("No alerts.")
            return
        }
        for alert in alerts {
            let fields = ["id", "state", "severity", "rule", "count", "last_at"].map { Table.cell(alert[$0] ?? .null) }
            print(fields.joined(separator: "  ") + "  " + Table.cell(alert["summary"] ?? .null))
        }
    }
}

import ArgumentParser
import CofferCore

/// `coffer alerts ack ID`: acknowledges a firing alert (occurrences are still counted, not sent again).
struct AlertsAck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge a firing alert.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The alert id (alr_…).") var id: String

    func run() async throws {
        let reply = try await options.client().send("POST", "/v1/alerts/\(Output.escapePath(id))/ack", body: [:])
        let data = reply.body["data"] ?? .null
        print("Acknowledged \(data["id"]?.stringValue ?? id) (\(data["rule"]?.stringValue ?? "")): \(data["summary"]?.stringValue ?? "")")
    }
}

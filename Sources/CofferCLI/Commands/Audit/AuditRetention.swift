import ArgumentParser
import CofferCore

/// `coffer audit retention --before DATE|AGE`: admins delete older entries; the cut itself is recorded.
struct AuditRetention: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retention", abstract: "Delete audit entries older than a date (admins).")

    @OptionGroup var options: ClientOptions
    @Option(help: "RFC 3339 date, or an age like 365d.") var before: String

    func run() async throws {
        let data = try await options.client().send("POST", "/v1/audit/retention", body: ["before": .string(before)]).body["data"] ?? .null
        print(
            "Deleted \(data["deleted"]?.intValue ?? 0) entries up to sequence \(data["cut_sequence"]?.intValue ?? 0); "
                + "hash at the cut \(data["hash_at_cut"]?.stringValue ?? "")")
    }
}

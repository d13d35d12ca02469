import ArgumentParser
import CofferCore

/// `coffer audit report --period 30d`: operations by type, failures, algorithm distribution, keys by age.
struct AuditReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Summarise the audit log over a period.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Period, e.g. 7d or 30d.") var period: String = "30d"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let data = try await options.client().send("GET", "/v1/audit/report?period=\(period)").body["data"] ?? .null
        if json { return print(Output.pretty(data)) }
        print("Audit report, last \(period) (since \(data["since"]?.stringValue ?? ""))")
        print("  entries: \(data["entries"]?.intValue ?? 0)")
        print("  failed authentications: \(data["failed_authentications"]?.intValue ?? 0)")
        print("  signature failures: \(data["signature_failures"]?.intValue ?? 0)")
        for (title, key) in [("operations", "operations"), ("failures", "failures"), ("algorithms", "algorithms")] {
            print("  \(title):")
            let counts = data[key]?.objectValue ?? [:]
            for name in counts.keys.sorted() { print("    \(name): \(counts[name]?.intValue ?? 0)") }
        }
        print("  keys:")
        if case .array(let keys) = data["keys"] ?? .null {
            for key in keys {
                let due = key["rotation_due"] == true ? " (rotation due)" : ""
                print(
                    "    \(key["type"]?.stringValue ?? "") v\(key["version"]?.intValue ?? 0) \(key["algorithm"]?.stringValue ?? ""): "
                        + "\(key["age_days"]?.intValue ?? 0) days\(key["active"] == true ? ", active" : "")\(due)")
            }
        }
    }
}

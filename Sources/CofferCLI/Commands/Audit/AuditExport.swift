import ArgumentParser
import CofferCore

/// `coffer audit export [--since DATE] [--until DATE] --format jsonl`: every matching entry, one JSON object a line.
struct AuditExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export audit entries as JSON lines.")

    @OptionGroup var options: ClientOptions
    @Option(help: "From this time (RFC 3339) or age (e.g. 7d).") var since: String?
    @Option(help: "Until this time (RFC 3339).") var until: String?
    @Option(help: "Only this operation.") var operation: String?
    @Option(help: "Output format (jsonl).") var format: String = "jsonl"

    func run() async throws {
        guard format == "jsonl" else { throw CLIError("only --format jsonl is supported") }
        var filters = ""
        if let since { filters += "&since=\(try AuditTime.resolve(since))" }
        if let until { filters += "&until=\(try AuditTime.resolve(until))" }
        if let operation { filters += "&operation=\(Output.escapePath(operation))" }
        let client = options.client()
        var after: Int64 = 0
        while true {
            let data = try await client.send("GET", "/v1/audit/entries?limit=1000&after=\(after)\(filters)").body["data"] ?? .null
            guard case .array(let entries) = data["entries"] ?? .null else { break }
            for entry in entries { print(String(decoding: entry.canonicalBytes(), as: UTF8.self)) }
            guard let next = data["next_after"]?.intValue else { break }
            after = Int64(next)
        }
    }
}

/// Times given to audit commands: RFC 3339, or an age like `7d` meaning that long ago.
enum AuditTime {
    static func resolve(_ text: String) throws -> Int64 {
        if let absolute = Timestamp.parse(text) { return absolute }
        if let age = Timestamp.parseDuration(text) { return SystemClock().nowMillis - age * 1000 }
        throw CLIError("'\(text)' is neither an RFC 3339 time nor an age like 7d")
    }
}

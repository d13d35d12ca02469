import ArgumentParser
import CofferCore
import Foundation

/// `coffer audit tail [--interval 1] [--count N]`: follows new entries as JSON lines.
struct AuditTail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tail", abstract: "Follow new audit entries.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Seconds between polls.") var interval: Double = 1
    @Option(help: "Entries already in the log to show first.") var last: Int = 10
    @Option(help: "Stop after printing this many entries (default: follow forever).") var count: Int?

    func run() async throws {
        let client = options.client()
        // Reading the log is audited too: skip our own reads so polling does not feed itself.
        let me = try await client.send("GET", "/v1/auth/token/lookup-self").body["data"]?["accessor"]?.stringValue ?? ""
        func ownRead(_ entry: JSONValue) -> Bool { entry["operation"] == "audit.read" && entry["actor"]?["id"]?.stringValue == me }
        var after: Int64 = 0
        var latest: [JSONValue] = []
        while true {
            let data = try await client.send("GET", "/v1/audit/entries?limit=1000&after=\(after)").body["data"] ?? .null
            guard case .array(let entries) = data["entries"] ?? .null, let lastEntry = entries.last?["sequence"]?.intValue else { break }
            latest = Array((latest + entries.filter { !ownRead($0) }).suffix(last))
            after = Int64(lastEntry)
            if data["next_after"] == nil { break }
        }
        var printed = 0
        func emit(_ entry: JSONValue) -> Bool {
            print(String(decoding: entry.canonicalBytes(), as: UTF8.self))
            fflush(nil)
            printed += 1
            return count.map { printed >= $0 } ?? false
        }
        for entry in latest where emit(entry) { return }
        while true {
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
            let data = try await client.send("GET", "/v1/audit/entries?limit=1000&after=\(after)").body["data"] ?? .null
            guard case .array(let entries) = data["entries"] ?? .null else { continue }
            for entry in entries {
                after = Int64(entry["sequence"]?.intValue ?? Int(after))
                if !ownRead(entry), emit(entry) { return }
            }
        }
    }
}

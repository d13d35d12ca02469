import ArgumentParser
import CofferCore

/// `coffer keys list [--after ID] [--limit N] [--format table|json]`: the tenant's keys, never the keys themselves.
struct KeysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List API keys (ids and prefixes, never keys).")

    @OptionGroup var options: ClientOptions
    @Option(help: "List keys after this id (paging).") var after: String?
    @Option(help: "At most this many keys.") var limit: Int = 100
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        var path = "/v1/keys?limit=\(limit)"
        if let after { path += "&after=\(Output.escapePath(after))" }
        let reply = try await options.client().send("GET", path)
        let data = reply.body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        guard case .array(let keys) = data["keys"] ?? .null else { return }
        for key in keys {
            let state = key["revoked"]?.boolValue == true ? "revoked" : (key["expires_at"].flatMap(\.stringValue).map { "expires \($0)" } ?? "active")
            let columns = [key["id"], key["prefix"], key["name"]].map { Output.plain($0 ?? .null) } + [state]
            print(columns.joined(separator: "  "))
        }
        if let next = data["next_after"]?.stringValue { print("more: --after \(next)") }
    }
}

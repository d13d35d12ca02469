import ArgumentParser
import CofferCore

/// `coffer kv get PATH [--version N] [--field NAME] [--format table|json]`.
struct KVGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Read a secret.",
        discussion: """
            Examples:
              coffer kv get app/prod                       # a table of fields
              coffer kv get app/prod --field DB_PASSWORD   # one value, raw
              coffer kv get app/prod --version 2 --format json
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Version to read (default latest).") var version: Int?
    @Option(help: "Print only this field's value.") var field: String?
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let query = version.map { "?version=\($0)" } ?? ""
        let reply = try await options.client().send("GET", "/v1/\(kv.mount)/data/\(Output.escapePath(path))\(query)", allow: [404])
        if reply.status == 404 {
            if let deleted = reply.body["data"]?["metadata"]?["deletion_time"]?.stringValue, !deleted.isEmpty {
                throw CLIError("NOT_FOUND: version is deleted (since \(deleted)); `coffer kv undelete` can restore it", status: 404)
            }
            if reply.body["data"]?["metadata"]?["destroyed"] == .bool(true) { throw CLIError("NOT_FOUND: version is destroyed", status: 404) }
            throw CLIError("NOT_FOUND: no secret at \(path)", status: 404)
        }
        if output.effective == .json { return print(Output.pretty(reply.body)) }
        let data = reply.body["data"]?["data"] ?? .null
        if let field {
            guard let value = data[field] else { throw CLIError("no field '\(field)' at \(path)") }
            return print(Output.plain(value))
        }
        output.print(data)
    }
}

import ArgumentParser
import CofferCore

/// `coffer kv delete PATH [--versions 1,2]`: soft delete (recoverable with undelete).
struct KVDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Soft-delete the latest or the given versions.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Comma-separated versions (default: the latest).") var versions: String?
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let list = try parseVersions(versions)
        let client = options.client()
        if list.isEmpty {
            try await client.send("DELETE", "/v1/\(kv.mount)/data/\(Output.escapePath(path))")
        } else {
            try await client.send("POST", "/v1/\(kv.mount)/delete/\(Output.escapePath(path))", body: ["versions": .array(list.map { .int($0) })])
        }
        print("Deleted \(path)\(list.isEmpty ? "" : " versions \(list.map(String.init).joined(separator: ","))")")
    }
}

import ArgumentParser
import CofferCore

/// `coffer kv undelete PATH --versions 1,2`.
struct KVUndelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undelete", abstract: "Restore soft-deleted versions.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Comma-separated versions.") var versions: String
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let list = try parseVersions(versions)
        try await options.client().send(
            "POST", "/v1/\(options.mount)/undelete/\(Output.escapePath(path))", body: ["versions": .array(list.map { .int($0) })])
        print("Undeleted \(path) versions \(list.map(String.init).joined(separator: ","))")
    }
}

import ArgumentParser
import CofferCore

/// `coffer kv destroy PATH --versions 1,2`: permanent.
struct KVDestroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Permanently erase versions.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Comma-separated versions.") var versions: String
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let list = try parseVersions(versions)
        try await options.client().send(
            "POST", "/v1/\(options.mount)/destroy/\(Output.escapePath(path))", body: ["versions": .array(list.map { .int($0) })])
        print("Destroyed \(path) versions \(list.map(String.init).joined(separator: ","))")
    }
}

import ArgumentParser
import CofferCore

/// `coffer transit trim NAME --min-available-version N`: deletes older versions for good.
struct TransitTrim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trim", abstract: "Delete versions below N (irreversible).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Key name.") var name: String
    @Option(help: "Oldest version to keep.") var minAvailableVersion: Int

    func run() async throws {
        _ = try await options.client().send(
            "POST", "/v1/transit/keys/\(Output.escapePath(name))/trim", body: ["min_available_version": .int(minAvailableVersion)])
        print("trimmed below version \(minAvailableVersion)")
    }
}

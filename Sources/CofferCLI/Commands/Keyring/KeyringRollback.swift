import ArgumentParser
import CofferCore

/// `coffer keyring rollback --to-version N --reason "…"`.
struct KeyringRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollback", abstract: "Point new writes back at an older data-key version.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Version to activate.") var toVersion: Int
    @Option(help: "Why (required).") var reason: String

    func run() async throws {
        try await options.client().send("POST", "/v1/sys/keyring/rollback", body: ["to_version": .int(toVersion), "reason": .string(reason)])
        print("Active data-key version: \(toVersion)")
    }
}

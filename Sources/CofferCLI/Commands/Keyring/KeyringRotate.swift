import ArgumentParser
import CofferCore

/// `coffer keyring rotate`: new data-key version; new writes use it, old versions still decrypt.
struct KeyringRotate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate", abstract: "Create and activate a new data-key version.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let reply = try await options.client().send("POST", "/v1/sys/keyring/rotate")
        print("Active data-key version: \(reply.body["data"]?["active_version"]?.intValue ?? 0)")
    }
}

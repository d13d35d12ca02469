import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer operator rotate-root`: rewraps every data key under a new root key (O(tenants), one transaction).
///
/// The current key comes from `COFFER_ROOT_KEY` / `COFFER_ROOT_KEY_FILE` / `COFFER_ROOT_PASSPHRASE`, the
/// new one from `COFFER_NEW_ROOT_KEY` / `COFFER_NEW_ROOT_KEY_FILE` / `COFFER_NEW_ROOT_PASSPHRASE`.
/// Stop the servers first and start them with the new key afterwards.
struct OperatorRotateRoot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotate-root", abstract: "Rewrap all data keys under a new root key.")

    @Option(help: "Path to coffer.toml.") var config: String?
    @Option(help: "Storage URL (overrides the config file).") var storage: String?

    func run() async throws {
        await ServerRunner.withRuntime(config: config, storage: storage) { _, runtime, _ in
            let version = try await runtime.keyring.rotateRoot(to: try Self.newRootKey(ProcessInfo.processInfo.environment))
            ServerRunner.say("Root key rotated to version \(version); restart servers with the new root key.")
        }
    }

    /// The new root key from `COFFER_NEW_ROOT_*`, read by the same rules as the current one.
    static func newRootKey(_ environment: [String: String]) throws(CofferError) -> RootKeySource {
        var renamed: [String: String] = [:]
        for name in ["ROOT_KEY", "ROOT_KEY_FILE", "ROOT_PASSPHRASE", "ROOT_KDF"] {
            if let value = environment["COFFER_NEW_" + name] { renamed["COFFER_" + name] = value }
        }
        guard !renamed.isEmpty else {
            throw CofferError(.rootKeyInvalid, "set COFFER_NEW_ROOT_KEY, COFFER_NEW_ROOT_KEY_FILE or COFFER_NEW_ROOT_PASSPHRASE")
        }
        do {
            return try RootKeySource.fromEnvironment(renamed)
        } catch {
            throw CofferError(error.code, error.message.replacingOccurrences(of: "COFFER_ROOT", with: "COFFER_NEW_ROOT"))
        }
    }
}

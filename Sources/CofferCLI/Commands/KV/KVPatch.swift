import ArgumentParser
import CofferCore
import Foundation

/// `coffer kv patch PATH key=value … [--cas N]`: a new version with these fields changed and every
/// other field kept (Vault's `kv patch`, an HTTP PATCH of the latest version).
struct KVPatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch", abstract: "Change some fields of a secret, keeping the others.",
        discussion: """
            Examples:
              coffer kv patch app/prod DB_PASSWORD=rotated          # API_KEY and the rest stay
              coffer kv patch app/prod DB_PASSWORD=rotated --cas 2   # only if version 2 is current
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Check-and-set: the version you expect to be current.") var cas: Int?
    @Argument(help: "Secret path (must exist).") var path: String
    @OptionGroup var fields: KVPairs

    func run() async throws {
        var body: [String: JSONValue] = ["data": .object(try fields.data())]
        if let cas { body["options"] = ["cas": .int(cas)] }
        let reply = try await options.client().send("PATCH", "/v1/\(kv.mount)/data/\(Output.escapePath(path))", body: .object(body))
        print("Patched \(path): version \(reply.body["data"]?["version"]?.intValue ?? 0)")
    }
}

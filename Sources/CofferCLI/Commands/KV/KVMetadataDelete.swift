import ArgumentParser
import CofferCore

/// `coffer kv metadata delete PATH`: removes every version and the metadata.
struct KVMetadataDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a secret entirely, with all versions.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        try await options.client().send("DELETE", "/v1/\(kv.mount)/metadata/\(Output.escapePath(path))")
        print("Deleted \(path) and all its versions")
    }
}

import ArgumentParser
import CofferCore

/// `coffer kv metadata get|put|delete PATH`.
struct KVMetadata: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metadata", abstract: "Read, change or delete a secret's metadata.",
        subcommands: [KVMetadataGet.self, KVMetadataPut.self, KVMetadataDelete.self])
}

import ArgumentParser

/// `coffer kv …`: KV v2 secrets.
struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv", abstract: "Read and write KV v2 secrets.",
        subcommands: [KVPut.self, KVGet.self, KVList.self, KVDelete.self, KVUndelete.self, KVDestroy.self, KVMetadata.self, KVHistory.self])
}

/// Parses `1,2,3` into version numbers.
func parseVersions(_ text: String?) throws -> [Int] {
    guard let text else { return [] }
    return try text.split(separator: ",").map { part in
        guard let number = Int(part.trimmingCharacters(in: .whitespaces)), number > 0 else {
            throw CLIError("versions must be positive integers separated by commas")
        }
        return number
    }
}

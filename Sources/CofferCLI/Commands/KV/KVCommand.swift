import ArgumentParser
import CofferCore

/// `coffer kv …`: KV v2 secrets.
struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv", abstract: "Read and write KV v2 secrets.",
        subcommands: [
            KVPut.self, KVPatch.self, KVGet.self, KVList.self, KVDelete.self, KVUndelete.self, KVDestroy.self, KVMetadata.self, KVHistory.self,
        ])
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

/// Sends `POST /v1/<mount>/<verb>/<path>` with `{"versions": [...]}` and prints what was done.
func postVersions(_ verb: String, done: String, options: ClientOptions, mount: String, path: String, versions: String) async throws {
    let list = try parseVersions(versions)
    try await options.client().send(
        "POST", "/v1/\(mount)/\(verb)/\(Output.escapePath(path))", body: ["versions": .array(list.map { .int($0) })])
    print("\(done) \(path) versions \(list.map(String.init).joined(separator: ","))")
}

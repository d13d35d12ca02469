import ArgumentParser
import CofferCore

/// `coffer kv metadata put PATH [--max-versions N] [--cas-required true|false] [--custom k=v …]`.
struct KVMetadataPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Change a secret's metadata.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Versions to keep (0 = mount default).") var maxVersions: Int?
    @Option(help: "Require check-and-set on writes.") var casRequired: Bool?
    @Option(help: "Delete versions after this duration (e.g. 720h).") var deleteVersionAfter: String?
    @Option(help: "Custom metadata key=value (replaces all). Repeatable.") var custom: [String] = []
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        var body: [String: JSONValue] = [:]
        if let maxVersions { body["max_versions"] = .int(maxVersions) }
        if let casRequired { body["cas_required"] = .bool(casRequired) }
        if let deleteVersionAfter { body["delete_version_after"] = .string(deleteVersionAfter) }
        if !custom.isEmpty {
            var map: [String: String] = [:]
            for pair in custom {
                guard let equals = pair.firstIndex(of: "=") else { throw CLIError("--custom takes key=value") }
                map[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            body["custom_metadata"] = .stringMap(map)
        }
        try await options.client().send("POST", "/v1/\(kv.mount)/metadata/\(Output.escapePath(path))", body: .object(body))
        print("Updated metadata of \(path)")
    }
}

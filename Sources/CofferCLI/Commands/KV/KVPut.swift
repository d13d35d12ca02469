import ArgumentParser
import CofferCore
import Foundation

/// `coffer kv put PATH key=value … [--cas N]`; `key=@file` reads the value from a file.
struct KVPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Write a new version of a secret.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Check-and-set: the version you expect to be current (0 = must not exist).") var cas: Int?
    @Argument(help: "Secret path.") var path: String
    @Argument(help: "key=value pairs; key=@file reads a file; key=- reads standard input.") var pairs: [String]

    func run() async throws {
        guard !pairs.isEmpty else { throw CLIError("give at least one key=value pair") }
        var data: [String: JSONValue] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("expected key=value, got '\(pair.prefix(40))'")
            }
            let key = String(pair[..<equals])
            var value = String(pair[pair.index(after: equals)...])
            if value == "-" {
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else if value.hasPrefix("@") {
                guard let contents = FileManager.default.contents(atPath: String(value.dropFirst())) else {
                    throw CLIError("cannot read \(value.dropFirst())")
                }
                value = String(decoding: contents, as: UTF8.self)
            }
            data[key] = .string(value)
        }
        var body: [String: JSONValue] = ["data": .object(data)]
        if let cas { body["options"] = ["cas": .int(cas)] }
        let reply = try await options.client().send("POST", "/v1/\(kv.mount)/data/\(Output.escapePath(path))", body: .object(body))
        print("Wrote \(path) version \(reply.body["data"]?["version"]?.intValue ?? 0)")
    }
}

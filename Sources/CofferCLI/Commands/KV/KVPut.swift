import ArgumentParser
import CofferCore
import Foundation

/// `coffer kv put PATH key=value … [--cas N]`: a new version holding exactly these fields.
struct KVPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Write a new version of a secret (only the fields given; see kv patch).",
        discussion: """
            Examples:
              coffer kv put app/prod DB_PASSWORD=hunter2 API_KEY=@api-key.txt
              coffer kv put app/prod TLS_KEY=@tls.key --cas 3        # only if version 3 is current
              pwgen -s 32 1 | coffer kv put app/prod SESSION_SECRET=- --trim-newline
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Check-and-set: the version you expect to be current (0 = must not exist).") var cas: Int?
    @Argument(help: "Secret path.") var path: String
    @OptionGroup var fields: KVPairs

    func run() async throws {
        var body: [String: JSONValue] = ["data": .object(try fields.data())]
        if let cas { body["options"] = ["cas": .int(cas)] }
        let reply = try await options.client().send("POST", "/v1/\(kv.mount)/data/\(Output.escapePath(path))", body: .object(body))
        print("Wrote \(path) version \(reply.body["data"]?["version"]?.intValue ?? 0)")
    }
}

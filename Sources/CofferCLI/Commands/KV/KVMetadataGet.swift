import ArgumentParser
import CofferCore

/// `coffer kv metadata get PATH`.
struct KVMetadataGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a secret's metadata.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/\(kv.mount)/metadata/\(Output.escapePath(path))")
        output.print(reply.body["data"] ?? .null)
    }
}

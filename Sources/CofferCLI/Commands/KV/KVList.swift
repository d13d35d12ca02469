import ArgumentParser
import CofferCore

/// `coffer kv list [FOLDER]`.
struct KVList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys under a folder.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Folder (default: the mount's root).") var path: String = ""

    func run() async throws {
        let reply = try await options.client().send("LIST", "/v1/\(kv.mount)/metadata/\(Output.escapePath(path))")
        if output.effective == .json { return print(Output.pretty(reply.body["data"]?["keys"] ?? .array([]))) }
        guard case .array(let keys) = reply.body["data"]?["keys"] ?? .null else { return }
        for key in keys { print(Output.plain(key)) }
    }
}

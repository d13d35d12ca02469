import ArgumentParser

/// `coffer kv destroy PATH --versions 1,2`: permanent.
struct KVDestroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "destroy", abstract: "Permanently erase versions.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Comma-separated versions.") var versions: String
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        try await postVersions("destroy", done: "Destroyed", options: options, mount: kv.mount, path: path, versions: versions)
    }
}

import ArgumentParser

/// `coffer kv undelete PATH --versions 1,2`.
struct KVUndelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "undelete", abstract: "Restore soft-deleted versions.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "Comma-separated versions.") var versions: String
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        try await postVersions("undelete", done: "Undeleted", options: options, mount: kv.mount, path: path, versions: versions)
    }
}

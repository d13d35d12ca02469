import ArgumentParser
import CofferCore
import Foundation

/// `coffer export --path app/prod --format dotenv|shell|docker|json|yaml`.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the secrets at a path as dotenv, shell, docker env-file, JSON or YAML.",
        discussion: """
            Every format is read back exactly by its readers, or the export is refused naming the key
            (never the value) and nothing is printed:
              dotenv  sh/bash `set -a; . ./.env`, python-dotenv, docker compose env_file
              shell   sh/bash only (export KEY='…'); carries any value
              docker  docker run --env-file (KEY=value verbatim; no line breaks)
              json    an object of strings
              yaml    double-quoted strings (ON, no, 0x1F, ~ stay strings)

            Examples:
              coffer export --path app/prod > .env && (set -a; . ./.env; ./server)
              coffer export --path app/prod --format docker > app.env && docker run --env-file app.env …
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "KV path.") var path: String
    @Option(help: "dotenv, shell, docker, json or yaml.") var format: ExportFormat = .dotenv

    func run() async throws {
        let pairs = try await SecretFetcher.fetch(options.client(), mount: kv.mount, path: path)
        do {
            print(try format.render(pairs), terminator: "")
        } catch {
            throw CLIError(error.description)
        }
    }
}

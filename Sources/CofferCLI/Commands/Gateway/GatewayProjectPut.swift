import ArgumentParser
import CofferCore
import Foundation

/// `coffer gateway project put NAME --file project.json`: creates or replaces a project.
struct GatewayProjectPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Create or replace a project from a JSON document.",
        discussion: """
            The document holds enabled, allowed_origins, providers and routes (see the README's gateway
            section). Credentials are never in it: a provider names a KV field (secret/path#FIELD).

            Examples:
              coffer gateway project put weather --file weather.json
              coffer gateway project put weather --file - < weather.json
            """)

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var name: String
    @Option(help: "The project document (JSON); - reads standard input.") var file: String

    func run() async throws {
        let document = try GatewayDocumentEdit.object(file: file)
        let reply = try await options.client().send("PUT", "/v1/gateway/projects/\(Output.escapePath(name))", body: document)
        let routes = reply.body["data"]?["routes"]?.objectValue?.count ?? 0
        let enabled = reply.body["data"]?["enabled"] == .bool(true)
        print("Saved gateway project \(name): \(routes) route\(routes == 1 ? "" : "s"), \(enabled ? "enabled" : "disabled")")
    }
}

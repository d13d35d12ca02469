import ArgumentParser
import CofferCore

/// `coffer gateway route put PROJECT NAME --file route.json`: adds or replaces one route of a project.
struct GatewayRoutePut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Add or replace a route of a project from a JSON object.",
        discussion: """
            The object is the project document's "routes" member for this name (see the README's
            gateway section); the whole project is checked again when it is saved.

            Example:
              coffer gateway route put weather forecast --file route.json
            """)

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The route's name.") var name: String
    @Option(help: "The route (JSON); - reads standard input.") var file: String

    func run() async throws {
        let value = try GatewayDocumentEdit.object(file: file)
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("routes", name, to: value, in: &$0) }
        print("Saved route \(name) of \(project)")
    }
}

import ArgumentParser
import CofferCore

/// `coffer gateway provider put PROJECT NAME --file provider.json`: adds or replaces one provider of a project.
struct GatewayProviderPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Add or replace a provider of a project from a JSON object.",
        discussion: """
            The object is the project document's "providers" member for this name (see the README's
            gateway section); the whole project is checked again when it is saved.

            Example:
              coffer gateway provider put weather api --file provider.json
            """)

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The provider's name.") var name: String
    @Option(help: "The provider (JSON); - reads standard input.") var file: String

    func run() async throws {
        let value = try GatewayDocumentEdit.object(file: file)
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("providers", name, to: value, in: &$0) }
        print("Saved provider \(name) of \(project)")
    }
}

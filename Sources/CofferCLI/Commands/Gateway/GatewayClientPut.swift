import ArgumentParser
import CofferCore

/// `coffer gateway client put PROJECT NAME --file client.json`: adds or replaces one client of a project.
struct GatewayClientPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Add or replace a client of a project from a JSON object.",
        discussion: """
            The object is the project document's "clients" member for this name (see the README's
            gateway section); the whole project is checked again when it is saved.

            Example:
              coffer gateway client put weather backend --file client.json
            """)

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The client's name.") var name: String
    @Option(help: "The client (JSON); - reads standard input.") var file: String

    func run() async throws {
        let value = try GatewayDocumentEdit.object(file: file)
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("clients", name, to: value, in: &$0) }
        print("Saved client \(name) of \(project)")
    }
}

import ArgumentParser
import CofferCore

/// `coffer gateway client delete PROJECT NAME`: removes one client of a project.
struct GatewayClientDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a client of a project.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The client's name.") var name: String

    func run() async throws {
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("clients", name, to: nil, in: &$0) }
        print("Removed client \(name) of \(project)")
    }
}

import ArgumentParser
import CofferCore

/// `coffer gateway provider delete PROJECT NAME`: removes one provider of a project.
struct GatewayProviderDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a provider of a project.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The provider's name.") var name: String

    func run() async throws {
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("providers", name, to: nil, in: &$0) }
        print("Removed provider \(name) of \(project)")
    }
}

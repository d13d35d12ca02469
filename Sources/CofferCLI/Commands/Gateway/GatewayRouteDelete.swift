import ArgumentParser
import CofferCore

/// `coffer gateway route delete PROJECT NAME`: removes one route of a project.
struct GatewayRouteDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a route of a project.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The route's name.") var name: String

    func run() async throws {
        try await GatewayDocumentEdit.edit(options, project: project) { try GatewayDocumentEdit.set("routes", name, to: nil, in: &$0) }
        print("Removed route \(name) of \(project)")
    }
}

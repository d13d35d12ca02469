import ArgumentParser
import CofferCore

/// `coffer gateway domain add PROJECT ORIGIN`: allows a browser origin.
struct GatewayDomainAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Allow a browser origin (https://app.example.com) to call the project.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "Exact origin: scheme://host[:port], lowercase, no path.") var origin: String

    func run() async throws {
        try await GatewayDocumentEdit.edit(options, project: project) { document in
            var list: [JSONValue] = []
            if case .array(let items)? = document["allowed_origins"] { list = items }
            guard !list.contains(.string(origin)) else { throw CLIError("\(origin) is already allowed") }
            list.append(.string(origin))
            document["allowed_origins"] = .array(list)
        }
        print("Allowed \(origin) for \(project)")
    }
}

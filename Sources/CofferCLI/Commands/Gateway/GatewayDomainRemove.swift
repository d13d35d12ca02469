import ArgumentParser
import CofferCore

/// `coffer gateway domain remove PROJECT ORIGIN`.
struct GatewayDomainRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Stop allowing a browser origin (at once).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Project name.") var project: String
    @Argument(help: "The origin as listed.") var origin: String

    func run() async throws {
        try await GatewayDocumentEdit.edit(options, project: project) { document in
            guard case .array(let items)? = document["allowed_origins"], items.contains(.string(origin)) else {
                throw CLIError("\(origin) is not an allowed origin of \(project)")
            }
            document["allowed_origins"] = .array(items.filter { $0 != .string(origin) })
        }
        print("Removed \(origin) from \(project)")
    }
}

import ArgumentParser

/// `coffer gateway …`: the API gateway's projects.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Gateway projects: upstream APIs called through Coffer with stored credentials.",
        subcommands: [GatewayProjectCommand.self, GatewayAssetCommand.self])
}

/// `coffer gateway project put|get|list|delete`.
struct GatewayProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Create, read, list and delete gateway projects.",
        subcommands: [GatewayProjectPut.self, GatewayProjectGet.self, GatewayProjectList.self, GatewayProjectDelete.self])
}

/// `coffer gateway asset put|get|list|delete|url`.
struct GatewayAssetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asset", abstract: "Public scripts and stylesheets of a project, served with their integrity digests.",
        subcommands: [GatewayAssetPut.self, GatewayAssetGet.self, GatewayAssetList.self, GatewayAssetDelete.self, GatewayAssetURL.self])
}

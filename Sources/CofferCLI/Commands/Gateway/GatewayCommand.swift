import ArgumentParser

/// `coffer gateway …`: the API gateway's projects.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Gateway projects: upstream APIs called through Coffer with stored credentials.",
        subcommands: [
            GatewayProjectCommand.self, GatewayProviderCommand.self, GatewayRouteCommand.self, GatewayClientCommand.self,
            GatewayDomainCommand.self, GatewayAssetCommand.self, GatewayKeyCommand.self,
        ])
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

/// `coffer gateway key get|rotate`: a project's managed publishable key.
struct GatewayKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "A project's managed, rotating publishable key (publishable_key in the project).",
        subcommands: [GatewayKeyGet.self, GatewayKeyRotate.self])
}

/// `coffer gateway provider put|delete`.
struct GatewayProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provider", abstract: "Upstream providers of a project.", subcommands: [GatewayProviderPut.self, GatewayProviderDelete.self])
}

/// `coffer gateway route put|delete`.
struct GatewayRouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "Routes of a project.", subcommands: [GatewayRoutePut.self, GatewayRouteDelete.self])
}

/// `coffer gateway client put|delete`.
struct GatewayClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Signing clients of a project.", subcommands: [GatewayClientPut.self, GatewayClientDelete.self])
}

/// `coffer gateway domain add|remove|list`.
struct GatewayDomainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domain", abstract: "Browser origins allowed to call a project (CORS).",
        subcommands: [GatewayDomainAdd.self, GatewayDomainRemove.self, GatewayDomainList.self])
}

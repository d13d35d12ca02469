import ArgumentParser

/// `coffer tenant …`.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Create and list tenants (system-tenant admins).", subcommands: [TenantCreate.self, TenantList.self])
}

import ArgumentParser
import CofferCore
import CofferServer
import Foundation

/// `coffer operator init`: initialises storage (keyring, system tenant) and prints the root token once.
struct OperatorInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Initialise Coffer and print the root token once.")

    @Option(help: "Path to coffer.toml.") var config: String?
    @Option(help: "Storage URL (overrides the config file).") var storage: String?
    @Option(help: "Name of the system tenant.") var tenant: String = "root"
    @Option(help: "Environment of the system tenant: development, staging or production.") var environment: String = "production"

    func run() async throws {
        let tenantName = tenant
        let environmentName = environment
        await ServerRunner.withRuntime(config: config, storage: storage) { _, runtime, _ in
            guard let environment = TenantEnvironment(rawValue: environmentName) else {
                throw CofferError(.invalidRequest, "environment must be development, staging or production")
            }
            guard let (created, token) = try await runtime.tenants.initialise(name: tenantName, environment: environment) else {
                throw CofferError(.tenantExists, "Coffer is already initialised")
            }
            ServerRunner.say("Initialised tenant \(created.name) (\(created.environment.rawValue)).\nRoot token (shown once): \(token)")
        }
    }
}

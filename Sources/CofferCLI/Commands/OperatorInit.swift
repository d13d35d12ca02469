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
        ServerRunner.restrictFileModes()
        let logger = ServerRunner.logger(label: "coffer")
        do {
            guard let environment = TenantEnvironment(rawValue: environment) else {
                throw CofferError(.invalidRequest, "environment must be development, staging or production")
            }
            let configuration = try ServeConfiguration.load(config: config, host: nil, port: nil, storage: storage)
            let source = try RootKeySource.fromEnvironment(ProcessInfo.processInfo.environment)
            let runtime = try await CofferRuntime.start(configuration: configuration, rootKey: source, logger: logger)
            let result = try await runtime.tenants.initialise(name: tenant, environment: environment)
            await runtime.shutdown()
            guard let (created, token) = result else {
                throw CofferError(.tenantExists, "Coffer is already initialised")
            }
            ServerRunner.say("Initialised tenant \(created.name) (\(created.environment.rawValue)).\nRoot token (shown once): \(token)")
        } catch {
            StartupFailure.report(error)
        }
    }
}

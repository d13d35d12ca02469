import ArgumentParser
import CofferCore

/// `coffer tenant create NAME [--environment E]`: prints the tenant's admin token once.
struct TenantCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a tenant and its admin token.")

    @OptionGroup var options: ClientOptions
    @Option(help: "development, staging or production.") var environment: String = "development"
    @Argument(help: "Tenant name.") var name: String

    func run() async throws {
        let reply = try await options.client().send(
            "POST", "/v1/sys/tenants", body: ["name": .string(name), "environment": .string(environment)])
        print("tenant       \(reply.body["data"]?["name"]?.stringValue ?? name) (\(reply.body["data"]?["environment"]?.stringValue ?? ""))")
        print("admin token  \(reply.body["auth"]?["client_token"]?.stringValue ?? "")")
        print("The admin token is shown once; store it now.")
    }
}

import ArgumentParser
import CofferCore

/// `coffer tenant list`.
struct TenantList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tenants.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/sys/tenants")
        if output.effective == .json { return print(Output.pretty(reply.body["data"]?["tenants"] ?? .array([]))) }
        guard case .array(let tenants) = reply.body["data"]?["tenants"] ?? .null else { return }
        for tenant in tenants {
            print("\(tenant["name"]?.stringValue ?? "")\t\(tenant["environment"]?.stringValue ?? "")")
        }
    }
}

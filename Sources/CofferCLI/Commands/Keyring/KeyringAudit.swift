import ArgumentParser
import CofferCore

/// `coffer keyring audit --key-version N [--limit N] [--json]`: what of the tenant's data is still sealed
/// under one data-key version — KV versions (the first `--limit` named), transit keys, gateway assets,
/// managed gateway keys, wrapped responses. Exit status 0 either way; the last line says whether it is free.
struct KeyringAudit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "List what still uses a data-key version.")

    @OptionGroup var options: ClientOptions
    @Option(help: "The data-key version.") var keyVersion: Int
    @Option(help: "KV versions to name at most (1-1000).") var limit: Int = 100
    @Flag(help: "Print the server's JSON.") var json = false

    func run() async throws {
        let data = try await options.client().send("GET", "/v1/sys/keyring/usage/\(keyVersion)?limit=\(limit)").body["data"] ?? .null
        if json {
            print(Output.pretty(data))
            return
        }
        for item in data["kv"]?.arrayValue ?? [] {
            print("kv       \(item["mount"]?.stringValue ?? "")/\(item["path"]?.stringValue ?? "") version \(item["version"]?.intValue ?? 0)")
        }
        let shown = data["kv"]?.arrayValue?.count ?? 0
        let total = data["kv_versions"]?.intValue ?? 0
        if total > shown { print("kv       … and \(total - shown) more KV versions") }
        for name in data["transit_keys"]?.arrayValue?.compactMap(\.stringValue) ?? [] { print("transit  \(name)") }
        for name in data["gateway_assets"]?.arrayValue?.compactMap(\.stringValue) ?? [] { print("asset    \(name)") }
        for name in data["managed_gateway_keys"]?.arrayValue?.compactMap(\.stringValue) ?? [] { print("gateway  \(name) (managed key)") }
        if let wrapped = data["wrapped_responses"]?.intValue, wrapped > 0 { print("wrapped  \(wrapped) wrapped responses (expire with their TTL)") }
        let active = data["active_version"]?.intValue ?? 0
        if data["in_use"]?.boolValue == true {
            print("Data-key version \(keyVersion) (active: \(active)) is used by \(data["summary"]?.stringValue ?? "")")
        } else {
            print("Data-key version \(keyVersion) (active: \(active)) is used by nothing")
        }
    }
}

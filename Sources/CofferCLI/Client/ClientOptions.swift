import ArgumentParser

/// Options every client command takes.
public struct ClientOptions: ParsableArguments {
    /// Server address (else `COFFER_ADDR` / `VAULT_ADDR`).
    @Option(name: .long, help: "Server address (default: $COFFER_ADDR, $VAULT_ADDR or http://127.0.0.1:8200).")
    public var address: String?

    /// Tenant to act in (else `COFFER_TENANT` / `VAULT_NAMESPACE`, else the token's own).
    @Option(name: .long, help: "Tenant (namespace) to act in; defaults to the token's own.")
    public var tenant: String?

    /// KV mount name.
    @Option(name: .long, help: "KV v2 mount name.")
    public var mount: String = "secret"

    /// Creates default options.
    public init() {}

    /// A client from these options.
    public func client() -> CofferClient {
        CofferClient(environment: .resolve(address: address, tenant: tenant))
    }
}

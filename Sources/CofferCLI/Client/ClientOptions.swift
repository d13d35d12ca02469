import ArgumentParser

/// Options every client command takes.
public struct ClientOptions: ParsableArguments {
    /// Server address (else `COFFER_ADDR` / `VAULT_ADDR`).
    @Option(name: .long, help: "Server address (default: $COFFER_ADDR, $VAULT_ADDR or http://127.0.0.1:8200).")
    public var address: String?

    /// Tenant to act in (else `COFFER_TENANT` / `VAULT_NAMESPACE`, else the token's own).
    @Option(name: .long, help: "Tenant (namespace) to act in; defaults to the token's own.")
    public var tenant: String?

    /// PEM file of CA certificates to trust (else `COFFER_CACERT` / `VAULT_CACERT`).
    @Option(name: .customLong("ca-cert"), help: "PEM file of CA certificates to trust (default: $COFFER_CACERT, $VAULT_CACERT).")
    public var caCert: String?

    /// Turns off TLS certificate checking (else `VAULT_SKIP_VERIFY`).
    @Flag(name: .customLong("tls-skip-verify"), help: "Do not check the server's TLS certificate (insecure; also VAULT_SKIP_VERIFY=1).")
    public var tlsSkipVerify = false

    /// Creates default options.
    public init() {}

    /// The resolved client settings.
    public func environment() -> ClientEnvironment {
        .resolve(address: address, tenant: tenant, caCert: caCert, skipVerify: tlsSkipVerify)
    }

    /// A client from these options.
    public func client() -> CofferClient {
        CofferClient(environment: environment())
    }
}

/// `--mount`, on the commands that read or write KV data.
public struct KVMountOption: ParsableArguments {
    /// KV v2 mount name.
    @Option(name: .long, help: "KV v2 mount name.")
    public var mount: String = "secret"

    /// Creates default options.
    public init() {}
}

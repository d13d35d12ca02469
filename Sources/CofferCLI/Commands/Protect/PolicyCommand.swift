import ArgumentParser
import CofferCore

/// `coffer policy put|read|list`: protection policies.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Protection policies for protect/unprotect.",
        subcommands: [PolicyPut.self, PolicyRead.self, PolicyList.self])
}

/// `coffer policy put NAME --mode sign|encrypt|sign-then-encrypt [--signing-key K] [--encryption-key K]`.
struct PolicyPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Create or change a policy.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "Policy name, e.g. BANK-TRANSFER-PROD-001.") var name: String
    @Option(help: "sign, encrypt or sign-then-encrypt.") var mode: String
    @Option(help: "Transit key that signs.") var signingKey: String?
    @Option(help: "Transit key that encrypts.") var encryptionKey: String?
    @Option(help: "Pin the signing key version (default: latest).") var signingKeyVersion: Int?
    @Option(help: "Pin the encryption key version (default: latest).") var encryptionKeyVersion: Int?

    func run() async throws {
        var body: [String: JSONValue] = ["mode": .string(mode)]
        if let signingKey { body["signing_key"] = .string(signingKey) }
        if let encryptionKey { body["encryption_key"] = .string(encryptionKey) }
        if let signingKeyVersion { body["signing_key_version"] = .int(signingKeyVersion) }
        if let encryptionKeyVersion { body["encryption_key_version"] = .int(encryptionKeyVersion) }
        let reply = try await options.client().send("PUT", "/v1/policies/\(Output.escapePath(name))", body: .object(body))
        print(Output.pretty(reply.body["data"] ?? .null))
    }
}

/// `coffer policy read NAME`.
struct PolicyRead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Describe a policy.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Policy name.") var name: String

    func run() async throws {
        output.print(try await options.client().send("GET", "/v1/policies/\(Output.escapePath(name))").body["data"] ?? .null)
    }
}

/// `coffer policy list`.
struct PolicyList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List policy names.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/policies")
        if output.effective == .json { return print(Output.pretty(reply.body["data"]?["keys"] ?? .array([]))) }
        guard case .array(let names) = reply.body["data"]?["keys"] ?? .null else { return }
        for name in names { print(Output.plain(name)) }
    }
}

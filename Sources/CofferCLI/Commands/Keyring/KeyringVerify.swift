import ArgumentParser
import CofferCore
import CofferServer
import CofferStore
import Foundation

/// `coffer keyring verify`: checks every tenant's keyring against its authenticated state and against
/// the data it protects (a rolled-back or edited keyring is reported, naming tenant and version).
///
/// With `--storage` or `--config` it opens the store itself (a stopped server's store; the root key from
/// `COFFER_ROOT_KEY`, `COFFER_ROOT_KEY_FILE` or `COFFER_ROOT_PASSPHRASE`); otherwise it asks the running
/// server (an admin token of the system tenant). Exit status 1 when anything does not verify.
struct KeyringVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Verify the keyring (live server, or a stopped store).")

    @OptionGroup var options: ClientOptions
    @Option(help: "Path to coffer.toml of a stopped server.") var config: String?
    @Option(help: "Storage URL of a stopped server (sqlite:///path or postgres://…).") var storage: String?

    func run() async throws {
        let report: Keyring.VerifyReport
        if config != nil || storage != nil {
            report = try await Self.offline(config: config, storage: storage)
        } else {
            let data = try await options.client().send("GET", "/v1/sys/keyring/verify").body["data"] ?? .null
            let problems: [String] =
                (data["problems"].flatMap { value -> [JSONValue]? in
                    if case .array(let items) = value { return items }
                    return nil
                } ?? []).compactMap(\.stringValue)
            report = Keyring.VerifyReport(tenants: data["tenants"]?.intValue ?? 0, dataKeys: data["data_keys"]?.intValue ?? 0, problems: problems)
        }
        for problem in report.problems { print("PROBLEM: \(problem)") }
        guard report.ok else {
            print("BROKEN: \(report.problems.count) problem(s) in \(report.tenants) tenants")
            throw ExitCode(1)
        }
        print("OK: \(report.tenants) tenants and \(report.dataKeys) data keys verify")
    }

    static func offline(config: String?, storage url: String?) async throws -> Keyring.VerifyReport {
        do {
            let configuration = try ServeConfiguration.load(config: config, host: nil, port: nil, storage: url)
            let source = try RootKeySource.fromEnvironment(ProcessInfo.processInfo.environment)
            let storage = try await SQLStorage.open(
                url: configuration.storageURL, logger: ServerRunner.logger(label: "coffer"), defaultKVMount: configuration.kvMount,
                migrationURL: configuration.storageMigrationURL)
            do {
                let keyring = try await Keyring.open(storage: storage, source: source, verifying: false)
                let report = try await keyring.verify()
                try await storage.shutdown()
                return report
            } catch {
                try? await storage.shutdown()
                throw error
            }
        } catch {
            StartupFailure.report(error)
        }
    }
}

import ArgumentParser
import CofferCore

/// `coffer keyring policy [--schedule CRON] [--retain-old-keys N] [--auto-reencrypt BOOL] [--batch-size N]
/// [--concurrency N] [--throttle N]`: shows the tenant's rotation policy, or changes what is given.
/// `--schedule ""` turns scheduled rotation off; `--retain-old-keys -1` keeps every old version.
struct KeyringPolicy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Show or set the data-key rotation schedule and retention.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Cron schedule in UTC (\"0 2 1 * *\", @monthly; \"\" for none).") var schedule: String?
    @Option(help: "Old data-key versions to keep after re-encryption (-1: all).") var retainOldKeys: Int?
    @Option(help: "Start re-encryption after each scheduled rotation (true/false).") var autoReencrypt: Bool?
    @Option(help: "Scheduled jobs' page size.") var batchSize: Int?
    @Option(help: "Scheduled jobs' parallel slices.") var concurrency: Int?
    @Option(help: "Scheduled jobs' rows-per-second limit (0: none).") var throttle: Int?

    func run() async throws {
        let client = options.client()
        var body: [String: JSONValue] = [:]
        if let schedule { body["schedule"] = .string(schedule) }
        if let retainOldKeys { body["retain_old_keys"] = .int(retainOldKeys) }
        if let autoReencrypt { body["auto_reencrypt"] = .bool(autoReencrypt) }
        if let batchSize { body["batch_size"] = .int(batchSize) }
        if let concurrency { body["concurrency"] = .int(concurrency) }
        if let throttle { body["throttle"] = .int(throttle) }
        let reply =
            body.isEmpty
            ? try await client.send("GET", "/v1/sys/keyring/policy") : try await client.send("POST", "/v1/sys/keyring/policy", body: .object(body))
        print(Output.pretty(reply.body["data"] ?? .null))
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// `coffer keyring reencrypt [--batch-size N] [--concurrency N] [--throttle ROWS/S] [--detach] [--job ID]`:
/// starts a background re-encryption job (or follows one) and shows its progress until it ends — a
/// progress bar when stdout is a terminal, a plain line per change otherwise. The job runs in the
/// server and survives this command (and a server restart); `--detach` only prints its id.
struct KeyringReencrypt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reencrypt", abstract: "Move data sealed with older data keys onto the active one (a background job).")

    @OptionGroup var options: ClientOptions
    @Option(help: "KV versions per page (1-10000).") var batchSize: Int = 1000
    @Option(help: "Slices of a page sealed and written in parallel (1-16).") var concurrency: Int = 4
    @Option(help: "At most this many rows per second (0: no limit).") var throttle: Int = 0
    @Flag(help: "Print the job's id and return at once.") var detach = false
    @Option(help: "Follow an existing job instead of starting one.") var job: String?

    func run() async throws {
        let client = options.client()
        var id = job ?? ""
        if id.isEmpty {
            let body: JSONValue = ["batch_size": .int(batchSize), "concurrency": .int(concurrency), "throttle": .int(throttle)]
            let started = try await client.send("POST", "/v1/sys/keyring/jobs", body: body).body["data"] ?? .null
            id = started["id"]?.stringValue ?? ""
            JobProgressView.say(
                "Started re-encryption job \(id): \(started["total"]?.intValue ?? 0) rows to data key \(started["target_version"]?.intValue ?? 0)")
            if detach { return }
        }
        var progress = JobProgressView(terminal: isatty(STDOUT_FILENO) == 1)
        while true {
            let data = try await client.send("GET", "/v1/sys/keyring/jobs/\(id)").body["data"] ?? .null
            let state = data["state"]?.stringValue ?? "unknown"
            progress.show(data)
            if state != "running" {
                progress.finish()
                try Self.report(data, id: id)
                return
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// The closing lines; a job that did not complete is an error (exit status 1).
    static func report(_ data: JSONValue, id: String) throws {
        let state = data["state"]?.stringValue ?? "unknown"
        let done = data["done"]?.intValue ?? 0
        guard state == "completed" else {
            throw CLIError("re-encryption job \(id) \(state) after \(done) rows\(data["error"]?.stringValue.map { ": \($0)" } ?? "")")
        }
        JobProgressView.say("Re-encrypted \(done) rows to data key \(data["target_version"]?.intValue ?? 0) (job \(id) completed)")
        let resealed = (data["transit_keys_resealed"]?.intValue ?? 0, data["assets_resealed"]?.intValue ?? 0)
        if resealed != (0, 0) { JobProgressView.say("Re-sealed \(resealed.0) transit keys and \(resealed.1) gateway assets") }
        if let destroyed = data["destroyed_versions"]?.arrayValue, !destroyed.isEmpty {
            JobProgressView.say(
                "Destroyed data-key versions \(destroyed.compactMap(\.intValue).map(String.init).joined(separator: ", ")) (retain_old_keys)")
        }
        for kept in data["kept_versions"]?.arrayValue?.compactMap(\.stringValue) ?? [] { JobProgressView.say("Kept data-key version \(kept)") }
    }
}

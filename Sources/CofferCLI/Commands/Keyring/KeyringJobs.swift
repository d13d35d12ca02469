import ArgumentParser
import CofferCore

/// `coffer keyring jobs [--cancel ID] [--limit N]`: the tenant's re-encryption jobs, newest first, one
/// line each; `--cancel` stops a running one after the page in hand.
struct KeyringJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List or cancel re-encryption jobs.")

    @OptionGroup var options: ClientOptions
    @Option(help: "Cancel this running job.") var cancel: String?
    @Option(help: "Jobs to list (1-100).") var limit: Int = 20

    func run() async throws {
        let client = options.client()
        if let cancel {
            let data = try await client.send("POST", "/v1/sys/keyring/jobs/\(cancel)/cancel").body["data"] ?? .null
            print("Cancelled job \(cancel) after \(data["done"]?.intValue ?? 0) rows")
            return
        }
        let jobs = try await client.send("GET", "/v1/sys/keyring/jobs?limit=\(limit)").body["data"]?["jobs"]?.arrayValue ?? []
        for job in jobs {
            let id = job["id"]?.stringValue ?? ""
            let state = job["state"]?.stringValue ?? ""
            print(
                "\(id)  \(state)  \(JobProgressView.line(job).text)  to v\(job["target_version"]?.intValue ?? 0)  \(job["created_time"]?.stringValue ?? "")"
            )
        }
        if jobs.isEmpty { print("No re-encryption jobs") }
    }
}

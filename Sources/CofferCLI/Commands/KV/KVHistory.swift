import ArgumentParser
import CofferCore

/// `coffer kv history PATH`: one line per kept version.
struct KVHistory: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "List a secret's versions.")

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Argument(help: "Secret path.") var path: String

    func run() async throws {
        let reply = try await options.client().send("GET", "/v1/\(kv.mount)/metadata/\(Output.escapePath(path))")
        let current = reply.body["data"]?["current_version"]?.intValue ?? 0
        let versions = reply.body["data"]?["versions"]?.objectValue ?? [:]
        print("VERSION  CREATED                   STATE")
        for key in versions.keys.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }) {
            let entry = versions[key] ?? .null
            let state: String
            if entry["destroyed"] == .bool(true) {
                state = "destroyed"
            } else if let deleted = entry["deletion_time"]?.stringValue, !deleted.isEmpty {
                state = "deleted \(deleted)"
            } else {
                state = Int(key) == current ? "current" : "kept"
            }
            let created = entry["created_time"]?.stringValue ?? ""
            print("\(key.padding(toLength: 8, withPad: " ", startingAt: 0)) \(created.padding(toLength: 25, withPad: " ", startingAt: 0)) \(state)")
        }
    }
}

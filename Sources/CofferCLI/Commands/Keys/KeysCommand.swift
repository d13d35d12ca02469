import ArgumentParser

/// `coffer keys …`: API keys.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Issue, inspect, change, revoke, rotate, verify and check API keys.",
        subcommands: [
            KeysCreate.self, KeysList.self, KeysShow.self, KeysUpdate.self, KeysRevoke.self, KeysRotate.self, KeysVerify.self, KeysCheck.self,
        ])
}

import ArgumentParser

/// `coffer alerts …`: the tenant's alerts, rules and test notifications.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts", abstract: "Alerts: list, show and acknowledge them; read and change the rules; send a test.",
        subcommands: [AlertsList.self, AlertsShow.self, AlertsAck.self, AlertsRules.self, AlertsTest.self])
}

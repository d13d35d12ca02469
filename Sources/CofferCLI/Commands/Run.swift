import ArgumentParser
import CofferCore
import Foundation

/// `coffer run --path app/prod -- ./server`: runs a command with the secrets at a path as environment variables.
///
/// Coffer replaces itself with the command (`execve`), so the command has Coffer's process id:
/// every signal sent to it reaches the command, and its exit status is the command's own.
/// `COFFER_TOKEN` and `VAULT_TOKEN` are removed from the command's environment.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a command with the secrets at a path in its environment.",
        discussion: """
            The command replaces coffer (same process id, signals and exit status); COFFER_TOKEN and
            VAULT_TOKEN are removed from its environment.

            Examples:
              coffer run --path app/prod -- ./server --port 8080
              coffer run --path app/prod -- sh -c 'echo "$DB_PASSWORD" | wc -c'
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var kv: KVMountOption
    @Option(help: "KV path whose latest version supplies the variables.") var path: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.") var command: [String] = []

    func run() async throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        guard let program = argv.first else { throw CLIError("no command given: coffer run --path PATH -- COMMAND [ARGS...]") }
        let pairs = try await SecretFetcher.fetch(options.client(), mount: kv.mount, path: path)
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "COFFER_TOKEN")
        environment.removeValue(forKey: "VAULT_TOKEN")
        for (name, value) in pairs {
            guard SecretFetcher.isValidName(name) else { throw CLIError("secret key '\(name)' is not a valid environment variable name") }
            environment[name] = value
        }
        guard let executable = Self.resolve(program, path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw CLIError("command not found: \(program)")
        }
        fflush(nil)
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(executable, cArguments, cEnvironment)
        throw CLIError("cannot execute \(program): \(String(cString: strerror(errno)))")
    }

    /// The executable for `program`: itself if it contains a slash, else the first match on `PATH`.
    static func resolve(_ program: String, path: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

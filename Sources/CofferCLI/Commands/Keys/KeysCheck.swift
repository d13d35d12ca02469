import ArgumentParser
import CofferCore

/// `coffer keys check KEY|-`: offline format and checksum check, no server needed (exit status 1 if malformed).
struct KeysCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a key's format and checksum offline (exit status 1 if malformed).")

    @Argument(help: "The key, or - to read it from standard input.") var key: String

    func run() async throws {
        let key = KeyArgument.read(key)
        switch APIKeyFormat.check(key) {
        case .success(let kind):
            print("OK: well-formed \(kind.prefix) key \(APIKeyFormat.displayPrefix(key)) (checksum valid; not checked against a server)")
        case .failure(let error):
            let why: String
            switch error.problem {
            case .unknownPrefix: why = "it does not start with sk_live_, sk_test_ or sk_admin_"
            case .badShape: why = "wrong length or characters outside base62"
            case .badChecksum: why = "the checksum does not match: a typo or not a Coffer key"
            }
            print("MALFORMED: \(why)")
            throw ExitCode(1)
        }
    }
}

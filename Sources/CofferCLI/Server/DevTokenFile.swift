import CofferCore
import Foundation
import Synchronization

/// Saving `coffer dev`'s root token to the token file, without taking it from another running server.
enum DevTokenFile {
    /// Writes `token` to the token file unless the file holds a different token that a running server
    /// (at `COFFER_ADDR`, `VAULT_ADDR` or the default address, other than `serverAddress`) still
    /// accepts. Returns the sentence to print either way.
    static func save(_ token: String, serverAddress: String, environment: [String: String] = ProcessInfo.processInfo.environment) async -> String {
        let path = TokenFile.path(environment: environment)
        if let existing = TokenFile.read(environment: environment), existing != token {
            let candidates = [environment["COFFER_ADDR"], environment["VAULT_ADDR"], "http://127.0.0.1:8200"]
                .compactMap { $0 }.filter { !$0.isEmpty && $0 != serverAddress }
            for address in Set(candidates) where await accepts(existing, at: address) {
                return "The token file \(path) belongs to the server at \(address) and was left as it is; "
                    + "to use this server: export COFFER_ADDR=\(serverAddress) COFFER_TOKEN=<the root token above>"
            }
            do {
                try TokenFile.write(token, environment: environment)
                return "It was saved to \(path) (0600), replacing a token no running server accepts."
            } catch {
                return "It could not be saved to \(path); export COFFER_TOKEN to use it."
            }
        }
        do {
            try TokenFile.write(token, environment: environment)
            return "It was also saved to \(path) (0600)."
        } catch {
            return "It could not be saved to \(path); export COFFER_TOKEN to use it."
        }
    }

    /// Whether the server at `address` answers `lookup-self` for `token` with 200 (within 2 s).
    private static func accepts(_ token: String, at address: String) async -> Bool {
        var environment = ClientEnvironment(address: address, token: nil, tenant: nil, tokenProblem: nil)
        environment.use(token: token, from: "the token file")
        let client = CofferClient(environment: environment, timeout: .seconds(2))
        return (try? await client.send("GET", "/v1/auth/token/lookup-self")) != nil
    }
}

/// Set once the server is listening; read after it stops.
final class ListeningFlag: Sendable {
    private let state = Atomic<Bool>(false)
    /// Marks the server as listening.
    func set() { state.store(true, ordering: .relaxed) }
    /// Whether it listened.
    var value: Bool { state.load(ordering: .relaxed) }
}

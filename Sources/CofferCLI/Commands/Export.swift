import ArgumentParser
import CofferCore
import Foundation

/// `coffer export --path app/prod --format dotenv|json|yaml`.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the secrets at a path as dotenv, JSON or YAML.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case dotenv, json, yaml
    }

    @OptionGroup var options: ClientOptions
    @Option(help: "KV path.") var path: String
    @Option(help: "dotenv, json or yaml.") var format: Format = .dotenv

    func run() async throws {
        let pairs = try await SecretFetcher.fetch(options.client(), mount: options.mount, path: path)
        print(Self.render(pairs, format: format), terminator: "")
    }

    static func render(_ pairs: [(String, String)], format: Format) -> String {
        switch format {
        case .json:
            return Output.pretty(.object(Dictionary(pairs.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { $1 }))) + "\n"
        case .yaml:
            return pairs.map { "\(quoteYAMLKey($0.0)): \(String(decoding: JSONValue.string($0.1).canonicalBytes(), as: UTF8.self))\n" }.joined()
        case .dotenv:
            return pairs.map { "\($0.0)=\(quoteDotenv($0.1))\n" }.joined()
        }
    }

    /// Single quotes (no interpolation) when possible; otherwise double quotes with escapes.
    static func quoteDotenv(_ value: String) -> String {
        if !value.contains("'") && !value.contains("\n") && !value.contains("\r") { return "'\(value)'" }
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "$": escaped += "\\$"
            default: escaped.append(character)
            }
        }
        return "\"\(escaped)\""
    }

    static func quoteYAMLKey(_ key: String) -> String {
        SecretFetcher.isValidName(key) ? key : String(decoding: JSONValue.string(key).canonicalBytes(), as: UTF8.self)
    }
}

import ArgumentParser
import CofferCore
import Foundation

/// The settings shared by `keys create` and `keys update`, turned into the request body.
struct KeySettingsOptions: ParsableArguments {
    @Option(help: "A name for the key.") var name: String?
    @Option(name: .customLong("scope"), help: "A scope, e.g. kv:read:secret/payments/* or keys:verify. Repeatable; replaces all scopes on update.")
    var scopes: [String] = []
    @Option(help: "Lifetime, e.g. 90d or 12h.") var ttl: String?
    @Option(help: "Expiry as an RFC 3339 time.") var expiresAt: String?
    @Option(name: .customLong("allow-ip"), help: "An allowed client address or CIDR network. Repeatable; replaces the list on update.")
    var allowedIPs: [String] = []
    @Option(help: "Rate limit as COUNT/PERIOD, e.g. 100/1m (0 removes it).") var rateLimit: String?
    @Option(help: "Quota as COUNT/PERIOD with PERIOD day, month or a duration, e.g. 10000/day (0 removes it).") var quota: String?
    @Option(name: .customLong("meta"), help: "Metadata as KEY=VALUE. Repeatable; replaces all metadata on update.") var metadata: [String] = []

    /// The JSON body with only the settings given.
    func body() throws -> [String: JSONValue] {
        var body: [String: JSONValue] = [:]
        if let name { body["name"] = .string(name) }
        if !scopes.isEmpty { body["scopes"] = .array(scopes.map(JSONValue.string)) }
        if let ttl { body["ttl"] = .string(ttl) }
        if let expiresAt { body["expires_at"] = .string(expiresAt) }
        if !allowedIPs.isEmpty { body["allowed_ips"] = .array(allowedIPs.map(JSONValue.string)) }
        if let rateLimit { body["rate_limit"] = try Self.limit(rateLimit, option: "--rate-limit") }
        if let quota { body["quota"] = try Self.limit(quota, option: "--quota") }
        if !metadata.isEmpty {
            var members: [String: JSONValue] = [:]
            for item in metadata {
                guard let equals = item.firstIndex(of: "=") else { throw ValidationError("--meta takes KEY=VALUE") }
                members[String(item[..<equals])] = .string(String(item[item.index(after: equals)...]))
            }
            body["metadata"] = .object(members)
        }
        return body
    }

    /// `COUNT/PERIOD` → `{limit, period}`.
    static func limit(_ text: String, option: String) throws -> JSONValue {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let count = Int(parts[0]), count >= 0 else { throw ValidationError("\(option) takes COUNT/PERIOD, e.g. 100/1m") }
        var value: [String: JSONValue] = ["limit": .int(count)]
        if parts.count == 2 { value["period"] = .string(parts[1]) }
        return .object(value)
    }
}

/// Reading a key argument, with `-` meaning standard input (keeps keys out of shell history).
enum KeyArgument {
    static func read(_ argument: String) -> String {
        guard argument == "-" else { return argument }
        return (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
    }
}

/// Prints a key's description as aligned lines.
enum KeyPrinter {
    static func print(_ data: JSONValue) {
        let fields = [
            "id", "name", "prefix", "kind", "tenant", "environment", "scopes", "created_at", "expires_at", "last_used_at", "revoked",
            "revoked_at", "revoked_reason", "allowed_ips", "rate_limit", "quota", "metadata", "rotated_from", "rotated_to",
        ]
        for field in fields {
            guard let value = data[field], value != .null else { continue }
            Swift.print(field.padding(toLength: 15, withPad: " ", startingAt: 0) + Output.plain(value))
        }
    }
}

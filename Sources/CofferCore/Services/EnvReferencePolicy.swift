import Foundation

/// Which server environment variables a stored `$NAME` value may resolve to.
///
/// Resolution is off unless the operator lists patterns (`NAME` or `PREFIX_*`); `COFFER_*` and
/// `VAULT_*` are never resolvable, so a writer cannot read the server's own credentials back.
public struct EnvReferencePolicy: Sendable {
    /// Allowed names or `PREFIX*` patterns.
    public let patterns: [String]
    /// The environment references resolve from.
    public let environment: [String: String]

    /// Creates a policy.
    public init(patterns: [String], environment: [String: String]) {
        self.patterns = patterns.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        self.environment = environment
    }

    /// No references at all.
    public static let disabled = EnvReferencePolicy(patterns: [], environment: [:])

    /// The variable name if `value` is a reference this policy allows (`$NAME`), else `nil`.
    public func referencedName(_ value: String) -> String? {
        guard value.hasPrefix("$") else { return nil }
        let name = String(value.dropFirst())
        guard let first = name.utf8.first, !(48...57).contains(first),
            name.utf8.allSatisfy({ (65...90).contains($0) || (48...57).contains($0) || $0 == 95 })
        else { return nil }
        guard !name.hasPrefix("COFFER_"), !name.hasPrefix("VAULT_") else { return nil }
        let allowed = patterns.contains { pattern in
            pattern.hasSuffix("*") ? name.hasPrefix(pattern.dropLast()) : name == pattern
        }
        return allowed ? name : nil
    }

    /// The current value of an allowed variable.
    public func resolve(_ name: String) -> String? { environment[name] }
}

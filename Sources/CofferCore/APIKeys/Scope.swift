import Foundation

/// A permission in the grammar `resource:action[:pattern]`: `kv:read:secret/payments/*`, `kv:write:secret/app/db`,
/// `transit:encrypt:orders-key`, `keys:verify`, `audit:read`. `*` as the action allows every action
/// of the resource; a pattern ending in `*` matches by prefix; no pattern matches every target.
public struct Scope: Sendable, Hashable, CustomStringConvertible {
    /// Resource family (`kv`, `transit`, `keys`, `audit`, …).
    public let resource: String
    /// Action (`read`, `write`, `encrypt`, `verify`, … or `*`).
    public let action: String
    /// Target pattern, if any.
    public let pattern: String?

    /// Parses a scope; `nil` if it does not follow the grammar. The pattern is kept in Unicode NFC,
    /// the form every secret path is stored and matched in.
    public init?(_ text: String) {
        let text = text.precomposedStringWithCanonicalMapping
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, parts.count <= 3, text.utf8.count <= 256 else { return nil }
        let word: (String) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { (97...122).contains($0) || $0 == 45 || $0 == 95 } }
        guard word(parts[0]), parts[1] == "*" || word(parts[1]) else { return nil }
        if parts.count == 3 {
            let target = parts[2]
            guard !target.isEmpty, !target.dropLast().contains("*"), !target.contains(" "),
                target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f })
            else { return nil }
            pattern = target
        } else {
            pattern = nil
        }
        resource = parts[0]
        action = parts[1]
    }

    /// The scope as text.
    public var description: String { [resource, action, pattern].compactMap { $0 }.joined(separator: ":") }

    /// Whether this granted scope allows `action` on `target` of `resource`.
    public func allows(resource: String, action: String, target: String?) -> Bool {
        guard self.resource == resource, self.action == "*" || self.action == action else { return false }
        guard let pattern else { return true }
        guard let target else { return false }
        return Self.matches(pattern, target)
    }

    /// Byte-wise matching (never Swift's canonical-equivalence `==`/`hasPrefix`): targets and patterns are
    /// both NFC, so equal text is equal bytes, and a target in another normal form matches nothing.
    static func matches(_ pattern: String, _ target: String) -> Bool {
        if pattern.utf8.last == UInt8(ascii: "*") { return target.utf8.starts(with: pattern.utf8.dropLast()) }
        return target.utf8.elementsEqual(pattern.utf8)
    }

    /// Whether any of `scopes` allows the request.
    public static func any(_ scopes: [Scope], allow resource: String, _ action: String, target: String? = nil) -> Bool {
        scopes.contains { $0.allows(resource: resource, action: action, target: target) }
    }
}

extension Scope {
    /// Whether holding this scope implies holding `other` (used so a key can only grant what it has).
    public func covers(_ other: Scope) -> Bool {
        guard resource == other.resource, action == "*" || action == other.action else { return false }
        guard let pattern else { return true }
        guard let otherPattern = other.pattern else { return false }
        return Self.matches(pattern, otherPattern)
    }

    /// Scopes only admin keys may hold: they reach beyond the tenant's data (tenants, keyring, tokens, audit retention).
    public var isAdminOnly: Bool {
        ["tenants", "keyring", "tokens", "mounts", "auth"].contains(resource) || (resource == "audit" && (action == "*" || action == "manage"))
    }
}

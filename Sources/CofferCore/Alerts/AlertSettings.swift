/// Where a tenant's alerts are sent.
public struct AlertChannel: Sendable, Equatable {
    /// Channel kinds.
    public enum Kind: String, Sendable, CaseIterable {
        /// A webhook signed per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
        case webhook
        /// Email over the server's SMTP relay (`alerts.smtp_*`).
        case email
        /// A warning line in the server log.
        case log
    }

    /// The channel's name (one path segment).
    public var name: String
    /// Its kind.
    public var kind: Kind
    /// Webhook: the URL.
    public var url: String?
    /// Webhook: where the `whsec_` signing secret lives in KV, `<mount>/<path>#<field>`.
    public var secretRef: String?
    /// Email: recipients.
    public var to: [String]
    /// The lowest severity sent (`page` sends pages only; `weekly` sends everything).
    public var minimumSeverity: AlertSeverity

    /// Creates a channel.
    public init(name: String, kind: Kind, url: String? = nil, secretRef: String? = nil, to: [String] = [], minimumSeverity: AlertSeverity = .weekly) {
        self.name = name
        self.kind = kind
        self.url = url
        self.secretRef = secretRef
        self.to = to
        self.minimumSeverity = minimumSeverity
    }

    /// Whether an alert of `severity` goes to this channel.
    public func sends(_ severity: AlertSeverity) -> Bool {
        let rank: (AlertSeverity) -> Int = { [.page: 0, .daily: 1, .weekly: 2][$0] ?? 2 }
        return rank(severity) <= rank(minimumSeverity)
    }

    /// The channel as stored and shown (the secret by reference only).
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["type": .string(kind.rawValue), "min_severity": .string(minimumSeverity.rawValue)]
        if let url { fields["url"] = .string(url) }
        if let secretRef { fields["secret_ref"] = .string(secretRef) }
        if kind == .email { fields["to"] = .array(to.map(JSONValue.string)) }
        return .object(fields)
    }

    /// Parses a channel from a request or a stored document; `INVALID_REQUEST` naming what is wrong.
    public static func parse(name: String, _ object: [String: JSONValue]) throws(CofferError) -> AlertChannel {
        guard Tenant.isValidName(name) else { throw CofferError(.invalidRequest, "a channel name is 1-63 lowercase letters, digits and '-'") }
        for key in object.keys where !["type", "url", "secret_ref", "to", "min_severity"].contains(key) {
            throw CofferError(.invalidRequest, "unknown channel field '\(key.prefix(64))'")
        }
        guard let text = object["type"]?.stringValue, let kind = Kind(rawValue: text) else {
            throw CofferError(.invalidRequest, "type must be webhook, email or log")
        }
        var channel = AlertChannel(name: name, kind: kind)
        if let value = object["min_severity"] {
            guard let text = value.stringValue, let severity = AlertSeverity(rawValue: text) else {
                throw CofferError(.invalidRequest, "min_severity must be page, daily or weekly")
            }
            channel.minimumSeverity = severity
        }
        switch kind {
        case .webhook:
            guard let url = object["url"]?.stringValue, url.hasPrefix("https://") || url.hasPrefix("http://"), url.utf8.count <= 2048,
                url.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
            else { throw CofferError(.invalidRequest, "url must be an http(s) URL") }
            guard let reference = object["secret_ref"]?.stringValue, isReference(reference) else {
                throw CofferError(
                    .invalidRequest, "secret_ref must name the whsec_ signing secret in KV as <mount>/<path>#<field> (webhooks are always signed)")
            }
            channel.url = url
            channel.secretRef = reference
        case .email:
            guard case .array(let items)? = object["to"], (1...20).contains(items.count) else {
                throw CofferError(.invalidRequest, "to must list 1 to 20 addresses")
            }
            for item in items {
                guard let address = item.stringValue, isAddress(address) else { throw CofferError(.invalidRequest, "to holds an invalid address") }
                channel.to.append(address)
            }
        case .log:
            break
        }
        if kind != .webhook, object["url"] != nil || object["secret_ref"] != nil {
            throw CofferError(.invalidRequest, "url and secret_ref are for webhooks")
        }
        if kind != .email, object["to"] != nil { throw CofferError(.invalidRequest, "to is for email channels") }
        return channel
    }

    /// `<mount>/<path>#<field>`.
    static func isReference(_ text: String) -> Bool {
        let parts = text.split(separator: "#", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[0].contains("/"), !parts[0].hasPrefix("/"), text.utf8.count <= 512 else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f }
    }

    /// A plain `local@domain` address, no display name, no line breaks (it goes into SMTP commands).
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), text.utf8.count <= 254 else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7f && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
    }
}

/// A tenant's alert settings: rule overrides and channels.
public struct AlertSettings: Sendable, Equatable {
    /// Rules as set (missing ones use their defaults).
    public var rules: [AlertRuleName: AlertRule] = [:]
    /// Channels by name.
    public var channels: [String: AlertChannel] = [:]
    /// When the last digest of each non-page severity was sent, ms.
    public var digests: [AlertSeverity: Int64] = [:]

    /// Empty settings: default rules, no channel but the log.
    public init() {}

    /// Every rule in effect.
    public func rule(_ name: AlertRuleName) -> AlertRule { rules[name] ?? AlertRule.defaultRule(name) }

    /// The stored document.
    public var json: JSONValue {
        [
            "rules": .object(Dictionary(uniqueKeysWithValues: rules.map { ($0.key.rawValue, $0.value.json) })),
            "channels": .object(Dictionary(uniqueKeysWithValues: channels.map { ($0.key, $0.value.json) })),
            "digests": .object(Dictionary(uniqueKeysWithValues: digests.map { ($0.key.rawValue, JSONValue.int(Int($0.value))) })),
        ]
    }

    /// Reads a stored document; a document this version cannot read fails closed (`STORAGE_CORRUPT`).
    public init(stored: JSONValue) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "stored alert settings are not readable by this version of Coffer")
        guard case .object(let rules)? = stored["rules"], case .object(let channels)? = stored["channels"] else { throw corrupt }
        do {
            for (name, value) in rules {
                guard let rule = AlertRuleName(rawValue: name), case .object(let fields) = value else { throw corrupt }
                self.rules[rule] = try AlertRule.defaultRule(rule).updated(with: fields)
            }
            for (name, value) in channels {
                guard case .object(let fields) = value else { throw corrupt }
                self.channels[name] = try AlertChannel.parse(name: name, fields)
            }
            if let value = stored["digests"] {
                guard case .object(let digests) = value else { throw corrupt }
                for (name, time) in digests {
                    guard let severity = AlertSeverity(rawValue: name), severity != .page, case .number = time, let millis = time.intValue else {
                        throw corrupt
                    }
                    self.digests[severity] = Int64(millis)
                }
            }
        } catch {
            throw corrupt
        }
    }
}

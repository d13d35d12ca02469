/// A certificate role of the `cert` method (Vault's `auth/cert/certs/<name>`): the CA certificates a
/// client certificate must chain to, the names it must carry (globs; each non-empty list needs one
/// match), and the token its logins get.
public struct CertRole: Sendable, Hashable {
    /// Name.
    public var name: String
    /// PEM certificates (CAs, or the client certificate itself) trusted for this role.
    public var certificate: String
    /// Patterns for the subject's common name.
    public var allowedCommonNames: [String] = []
    /// Patterns for DNS subject alternative names.
    public var allowedDNSSANs: [String] = []
    /// Patterns for email subject alternative names.
    public var allowedEmailSANs: [String] = []
    /// Patterns for URI subject alternative names.
    public var allowedURISANs: [String] = []
    /// Patterns for the subject's organizational units.
    public var allowedOrganizationalUnits: [String] = []
    /// The display name of its tokens (the role name when empty).
    public var displayName: String = ""
    /// The token a login yields.
    public var settings: LoginTokenSettings

    /// Creates a role.
    public init(name: String, certificate: String, settings: LoginTokenSettings) {
        self.name = name
        self.certificate = certificate
        self.settings = settings
    }

    /// Whether a verified certificate's names satisfy the role.
    public func allows(_ facts: CertificateFacts) -> Bool {
        func matches(_ patterns: [String], _ values: [String]) -> Bool {
            patterns.isEmpty || values.contains { value in patterns.contains { Glob.matches($0, value) } }
        }
        return matches(allowedCommonNames, facts.commonName.map { [$0] } ?? []) && matches(allowedDNSSANs, facts.dnsNames)
            && matches(allowedEmailSANs, facts.emailAddresses) && matches(allowedURISANs, facts.uris)
            && matches(allowedOrganizationalUnits, facts.organizationalUnits)
    }

    /// The stored form.
    public var document: JSONValue {
        let list = { (values: [String]) in JSONValue.array(values.map { .string($0) }) }
        return .object([
            "certificate": .string(certificate), "allowed_common_names": list(allowedCommonNames), "allowed_dns_sans": list(allowedDNSSANs),
            "allowed_email_sans": list(allowedEmailSANs), "allowed_uri_sans": list(allowedURISANs),
            "allowed_organizational_units": list(allowedOrganizationalUnits), "display_name": .string(displayName),
            "settings": .object(settings.document),
        ])
    }

    /// Reads the stored form (`STORAGE_CORRUPT` if unreadable).
    public init(name: String, document: JSONValue) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "a stored certificate role is malformed")
        guard let members = document.objectValue, let certificate = members["certificate"]?.stringValue,
            let display = members["display_name"]?.stringValue, let settings = members["settings"]?.objectValue
        else { throw corrupt }
        self.init(name: name, certificate: certificate, settings: try LoginTokenSettings(document: settings))
        displayName = display
        func texts(_ key: String) throws(CofferError) -> [String] {
            guard case .array(let items)? = members[key] else { throw corrupt }
            var out: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw corrupt }
                out.append(text)
            }
            return out
        }
        allowedCommonNames = try texts("allowed_common_names")
        allowedDNSSANs = try texts("allowed_dns_sans")
        allowedEmailSANs = try texts("allowed_email_sans")
        allowedURISANs = try texts("allowed_uri_sans")
        allowedOrganizationalUnits = try texts("allowed_organizational_units")
    }
}

/// What a client certificate that verified says about its holder.
public struct CertificateFacts: Sendable, Hashable {
    /// Subject common name.
    public var commonName: String?
    /// DNS subject alternative names.
    public var dnsNames: [String] = []
    /// Email subject alternative names.
    public var emailAddresses: [String] = []
    /// URI subject alternative names.
    public var uris: [String] = []
    /// Subject organizational units.
    public var organizationalUnits: [String] = []
    /// Serial number, hex.
    public var serial: String = ""

    /// Creates facts.
    public init(commonName: String?) { self.commonName = commonName }
}

/// Verifies a TLS client certificate against a role's trusted certificates and the method's CRLs at
/// a time (swift-certificates in the server).
public protocol CertificateChainVerifying: Sendable {
    /// The certificate's facts if it chains to one of `trusted` and is valid at `nowMillis` and not revoked
    /// by any of `crls` (PEM, each checked against its issuer's signature); a ``CertificateRefusal``
    /// saying why otherwise (`untrusted`, `expired`, `not_yet_valid`, `revoked`, `malformed`).
    func verify(_ certificateDER: [UInt8], trusted: String, crls: [String], nowMillis: Int64) async throws -> CertificateFacts
}

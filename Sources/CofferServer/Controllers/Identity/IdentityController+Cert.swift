import CofferCore
import HTTPTypes
import Hummingbird

extension IdentityController {
    /// Vault's read-back of a certificate role.
    static func describe(_ role: CertRole) -> JSONValue {
        var fields = role.settings.vaultFields
        let list = { (values: [String]) in JSONValue.array(values.map { .string($0) }) }
        fields["certificate"] = .string(role.certificate)
        fields["allowed_common_names"] = list(role.allowedCommonNames)
        fields["allowed_dns_sans"] = list(role.allowedDNSSANs)
        fields["allowed_email_sans"] = list(role.allowedEmailSANs)
        fields["allowed_uri_sans"] = list(role.allowedURISANs)
        fields["allowed_organizational_units"] = list(role.allowedOrganizationalUnits)
        fields["display_name"] = .string(role.displayName)
        fields["required_extensions"] = .array([])
        return .object(fields)
    }

    static let certRoleFields: Set<String> = [
        "name", "certificate", "allowed_names", "allowed_common_names", "allowed_dns_sans", "allowed_email_sans", "allowed_uri_sans",
        "allowed_organizational_units", "display_name",
    ]

    /// A certificate role from a request, on top of the current one; its certificates must parse.
    static func certRole(_ object: [String: JSONValue], name: String, current: CertRole?) throws -> CertRole {
        try object.admit(
            LoginSettingsRequest.fields.union(certRoleFields),
            defaultsOnly: [
                "required_extensions": ["", .array([])], "allowed_metadata_extensions": ["", .array([])], "ocsp_enabled": [false],
                "ocsp_ca_certificates": [""], "ocsp_servers_override": [.array([])], "ocsp_fail_open": [false], "ocsp_query_all_servers": [false],
            ], outcome: "nothing was changed")
        if let given = try object.string("name"), given != name { throw CofferError(.invalidRequest, "name differs from the role in the path") }
        var role = current ?? CertRole(name: name, certificate: "", settings: LoginTokenSettings(role: nil))
        try LoginSettingsRequest.apply(object, to: &role.settings)
        if let pem = try object.string("certificate") {
            guard pem.utf8.count <= 1 << 20, let parsed = try? GatewayCertificateVerifier.certificates(pem), !parsed.isEmpty else {
                throw CofferError(.invalidRequest, "certificate must hold PEM certificates that parse; nothing was changed")
            }
            role.certificate = pem
        }
        guard !role.certificate.isEmpty else { throw CofferError(.invalidRequest, "certificate is required") }
        let lists: [(String, WritableKeyPath<CertRole, [String]>)] = [
            ("allowed_common_names", \.allowedCommonNames), ("allowed_names", \.allowedCommonNames), ("allowed_dns_sans", \.allowedDNSSANs),
            ("allowed_email_sans", \.allowedEmailSANs), ("allowed_uri_sans", \.allowedURISANs),
            ("allowed_organizational_units", \.allowedOrganizationalUnits),
        ]
        for (key, path) in lists {
            if let values = try LoginSettingsRequest.names(object, key) { role[keyPath: path] = values }
        }
        if let display = try object.string("display_name") {
            guard display.utf8.count <= 128 else { throw CofferError(.invalidRequest, "display_name is at most 128 bytes") }
            role.displayName = display
        }
        return role
    }

    func listCertEntries(_ request: Request, _ context: CofferRequestContext, kind: AuthEntryKind) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        context.work.describe("auth.cert.list", "auth_role", method.path)
        let names = try await identity.entryNames(tenant: caller.tenant, method: method, kind: kind)
        guard !names.isEmpty else { throw CofferError(.notFound, "none") }
        return VaultResponse.data(["keys": .array(names.map { .string($0) })], context: context)
    }

    func readCertRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        let name = try context.parameters.require("name")
        context.work.describe("auth.cert.role.read", "auth_role", "\(method.path)/\(name.prefix(128))")
        return VaultResponse.data(Self.describe(try await identity.certRole(tenant: caller.tenant, method: method, name: name)), context: context)
    }

    func writeCertRole(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        let name = try context.parameters.require("name")
        let object = try await body.object(request, context)
        let current = try? await identity.certRole(tenant: caller.tenant, method: method, name: name)
        try await identity.writeCertRole(
            tenant: caller.tenant, method: method, try Self.certRole(object, name: name, current: current), in: context.work)
        return VaultResponse.noContent()
    }

    func deleteCertEntry(_ request: Request, _ context: CofferRequestContext, kind: AuthEntryKind) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        try await identity.deleteCertEntry(
            tenant: caller.tenant, method: method, kind: kind, name: try context.parameters.require("name"), in: context.work)
        return VaultResponse.noContent()
    }

    func readCRL(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        let name = try context.parameters.require("name")
        context.work.describe("auth.cert.crl.read", "auth_crl", "\(method.path)/\(name.prefix(128))")
        let pem = try await identity.crl(tenant: caller.tenant, method: method, name: name)
        let serials = RevocationList(pem: pem).map { $0.revoked.map { $0.map { String(format: "%02x", $0) }.joined(separator: ":") }.sorted() } ?? []
        return VaultResponse.data(
            ["serials": .object(Dictionary(uniqueKeysWithValues: serials.map { ($0, JSONValue.object([:])) }))], context: context)
    }

    /// `POST crls/<name> {crl}`: a PEM `X509 CRL` (checked against its issuer at each login).
    func writeCRL(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.cert])
        let object = try await body.object(request, context)
        try object.admit(["crl"])
        guard let pem = try object.string("crl"), RevocationList(pem: pem) != nil else {
            throw CofferError(.invalidRequest, "crl must be a PEM X509 CRL signed with RSA, ECDSA or Ed25519; nothing was changed")
        }
        try await identity.writeCRL(tenant: caller.tenant, method: method, name: try context.parameters.require("name"), pem: pem, in: context.work)
        return VaultResponse.noContent()
    }
}

extension IdentityService {
    /// A certificate role, or nil.
    func certRole(tenant: Tenant, mount: String, name: String) async throws -> CertRole? {
        guard AuthMethod.isValidName(name), let document = try await store.authEntry(tenantID: tenant.id, mount: mount, AuthEntryKey(.certRole, name))
        else { return nil }
        return try CertRole(name: name, document: document)
    }

    /// A certificate role, or `NOT_FOUND`.
    public func certRole(tenant: Tenant, method: AuthMethod, name: String) async throws -> CertRole {
        guard let role = try await certRole(tenant: tenant, mount: method.path, name: name) else {
            throw CofferError(.notFound, "no certificate role with this name")
        }
        return role
    }

    /// The names of a method's entries of `kind` (certificate roles, CRLs).
    public func entryNames(tenant: Tenant, method: AuthMethod, kind: AuthEntryKind) async throws -> [String] {
        try await store.authEntryNames(tenantID: tenant.id, mount: method.path, kind: kind)
    }

    /// Creates or replaces a certificate role (its certificates are checked to parse by the caller); a
    /// changed Coffer role revokes the role's sessions.
    public func writeCertRole(tenant: Tenant, method: AuthMethod, _ role: CertRole, in work: UnitOfWork) async throws {
        work.describe("auth.cert.role.write", "auth_role", "\(method.path)/\(role.name.prefix(128))")
        guard AuthMethod.isValidName(role.name) else {
            throw CofferError(.invalidRequest, "a role name is 1-128 letters, digits, '.', '_', '-' or '@', not starting with '.'")
        }
        guard role.settings.role != nil else { throw CofferError(.invalidRequest, "token_policies: a certificate role needs one of Coffer's roles") }
        let existing = try await certRole(tenant: tenant, mount: method.path, name: role.name)
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [AuthEntryKey(.certRole, role.name): role.document], delete: [], dropSecretIDsOf: nil,
            in: work)
        if let existing, existing.settings.role != role.settings.role || existing.certificate != role.certificate {
            _ = try await tokenStore.revokeSessions(
                tenantID: tenant.id, mount: method.path, role: role.name, subject: nil, at: clock.nowMillis, in: work)
        }
    }

    /// Deletes a certificate role (or a CRL) and, for a role, revokes its sessions; `NOT_FOUND` if none.
    public func deleteCertEntry(tenant: Tenant, method: AuthMethod, kind: AuthEntryKind, name: String, in work: UnitOfWork) async throws {
        work.describe(kind == .crl ? "auth.cert.crl.delete" : "auth.cert.role.delete", "auth_role", "\(method.path)/\(name.prefix(128))")
        guard AuthMethod.isValidName(name),
            try await store.writeAuthEntries(
                tenantID: tenant.id, mount: method.path, put: [:], delete: [AuthEntryKey(kind, name)], dropSecretIDsOf: nil, in: work) == 1
        else { throw CofferError(.notFound, "nothing with this name") }
        if kind == .certRole {
            _ = try await tokenStore.revokeSessions(tenantID: tenant.id, mount: method.path, role: name, subject: nil, at: clock.nowMillis, in: work)
        }
    }

    /// A CRL's PEM text, or `NOT_FOUND`.
    public func crl(tenant: Tenant, method: AuthMethod, name: String) async throws -> String {
        guard AuthMethod.isValidName(name),
            let pem = try await store.authEntry(tenantID: tenant.id, mount: method.path, AuthEntryKey(.crl, name))?["crl"]?.stringValue
        else { throw CofferError(.notFound, "no CRL with this name") }
        return pem
    }

    /// Stores a CRL (checked to parse and to be signed by its issuer by the caller).
    public func writeCRL(tenant: Tenant, method: AuthMethod, name: String, pem: String, in work: UnitOfWork) async throws {
        work.describe("auth.cert.crl.write", "auth_crl", "\(method.path)/\(name.prefix(128))")
        guard AuthMethod.isValidName(name) else { throw CofferError(.invalidRequest, "a CRL name is 1-128 letters, digits, '.', '_', '-' or '@'") }
        _ = try await store.writeAuthEntries(
            tenantID: tenant.id, mount: method.path, put: [AuthEntryKey(.crl, name): .object(["crl": .string(pem)])], delete: [],
            dropSecretIDsOf: nil, in: work)
    }

    /// Logs in with the TLS client certificate of the connection (`certificateDER`, nil when none was
    /// presented), against the named role or, without one, each role by name until one accepts it. Every
    /// refusal is `CERTIFICATE_INVALID`; the audit entry names the reason.
    public func loginCert(
        tenant: Tenant, method: AuthMethod, roleName: String?, certificateDER: [UInt8]?, verifier: any CertificateChainVerifying, in work: UnitOfWork
    ) async throws -> Login {
        work.describe("auth.login", "auth_role", method.path, ["method": "cert", "mount": method.path])
        guard let certificateDER else {
            work.addDetails(["reason": "no_certificate"])
            throw CofferError(.certificateInvalid, "no client certificate was presented (log in over TLS with one)")
        }
        var names: [String] = []
        if let roleName {
            names = AuthMethod.isValidName(roleName) ? [roleName] : []
        } else {
            names = try await store.authEntryNames(tenantID: tenant.id, mount: method.path, kind: .certRole)
        }
        var crls: [String] = []
        for name in try await store.authEntryNames(tenantID: tenant.id, mount: method.path, kind: .crl) {
            if let pem = try await store.authEntry(tenantID: tenant.id, mount: method.path, AuthEntryKey(.crl, name))?["crl"]?.stringValue {
                crls.append(pem)
            }
        }
        var reason = "untrusted"
        for name in names {
            guard let role = try await certRole(tenant: tenant, mount: method.path, name: name), let grant = role.settings.role else { continue }
            let facts: CertificateFacts
            do {
                facts = try await verifier.verify(certificateDER, trusted: role.certificate, crls: crls, nowMillis: clock.nowMillis)
            } catch let error as CertificateRefusal {
                // The most telling reason wins: a certificate one role's CA issued but that is revoked or
                // expired says more than "no other role trusts it".
                if error.reason != "untrusted" { reason = error.reason }
                continue
            }
            guard role.allows(facts) else {
                reason = "name_not_allowed"
                continue
            }
            let subject = facts.commonName ?? facts.dnsNames.first ?? facts.serial
            work.describe(
                "auth.login", "auth_role", "\(method.path)/\(role.name)",
                ["method": "cert", "mount": method.path, "role": role.name, "serial": facts.serial])
            return try await issue(
                tenant: tenant, settings: role.settings, role: grant, origin: LoginOrigin(mount: method.path, role: role.name, subject: subject),
                displayName: "\(method.path)-\((role.displayName.isEmpty ? role.name : role.displayName).prefix(64))",
                meta: ["cert_name": role.name, "common_name": facts.commonName ?? "", "serial_number": facts.serial], in: work)
        }
        work.addDetails(["reason": reason])
        throw CofferError(
            .certificateInvalid, "no certificate role accepts this client certificate (\(reason.replacingOccurrences(of: "_", with: " ")))")
    }
}

/// Why a certificate was refused, for the audit entry (`untrusted`, `expired`, `not_yet_valid`,
/// `revoked`, `malformed`).
public struct CertificateRefusal: Error, Sendable {
    /// The reason code.
    public let reason: String

    /// Creates a refusal.
    public init(_ reason: String) { self.reason = reason }
}

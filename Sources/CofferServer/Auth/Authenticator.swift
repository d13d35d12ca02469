import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates requests by `X-Vault-Token` or `Authorization: Bearer`, and binds them to a tenant.
///
/// The tenant is the one named by `X-Vault-Namespace` (alias `X-Coffer-Tenant`), or the token's own
/// when neither header is sent. A token used for another tenant is refused with `TENANT_MISMATCH`,
/// whatever its role, and without revealing whether that tenant exists.
public struct Authenticator: Sendable {
    let tokens: TokenService
    let tenants: any TenantStore
    let audit: AuditService

    /// Creates an authenticator.
    public init(tokens: TokenService, tenants: any TenantStore, audit: AuditService) {
        self.tokens = tokens
        self.tenants = tenants
        self.audit = audit
    }

    /// The presented credential, if any.
    public static func credential(_ request: Request) -> String? {
        if let token = request.headers[.vaultToken], !token.isEmpty { return token }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// The requested tenant name, normalised (`team-a/` → `team-a`), if a header names one.
    public static func requestedTenant(_ request: Request) -> String? {
        guard var name = request.headers[.vaultNamespace] ?? request.headers[.cofferTenant] else { return nil }
        while name.hasSuffix("/") { name.removeLast() }
        while name.hasPrefix("/") { name.removeFirst() }
        return name.isEmpty ? nil : name
    }

    /// Authenticates and returns the caller, or throws `UNAUTHENTICATED` / `TENANT_MISMATCH`.
    public func authenticate(_ request: Request) async throws -> Caller {
        do {
            guard let credential = Self.credential(request) else {
                throw CofferError(.unauthenticated, "permission denied: missing client token")
            }
            let token = try await tokens.authenticate(credential)
            guard let tenant = try await tenants.tenant(id: token.tenantID) else {
                throw CofferError(.unauthenticated, "permission denied")
            }
            let actor = AuditActor(kind: "token", id: token.accessor, role: token.role.rawValue, displayName: token.displayName)
            if let requested = Self.requestedTenant(request), requested != tenant.name {
                // Recorded in the token's own tenant: the attempt says something about that credential.
                identify(tenant, actor, operation: "auth.tenant_mismatch")
                throw CofferError(.tenantMismatch, "permission denied: this token belongs to another tenant")
            }
            identify(tenant, actor, operation: nil)
            return Caller(token: token, tenant: tenant)
        } catch let error as CofferError where error.code == .unauthenticated && AuditScope.current != nil {
            // A failed authentication goes to the requested tenant's chain, else the system tenant's.
            var tenant: Tenant?
            if let requested = Self.requestedTenant(request) { tenant = try await tenants.tenant(named: requested) }
            if tenant == nil { tenant = try await tenants.systemTenant() }
            if let tenant { identify(tenant, .anonymous, operation: "auth.failed") }
            throw error
        }
    }

    func identify(_ tenant: Tenant, _ actor: AuditActor, operation: String?) {
        guard let scope = AuditScope.current else { return }
        let redactor = audit.redactor(tenantID: tenant.id)
        scope.identify(tenantID: tenant.id, actor: actor) { redactor.redact($0) }
        if let operation { scope.describe(operation: operation, resourceType: "auth", resourceID: "") }
    }

    /// Authenticates and checks the role allows `action`.
    public func authorize(_ request: Request, _ action: Role.Action) async throws -> Caller {
        let caller = try await authenticate(request)
        guard caller.token.role.allows(action) else {
            throw CofferError(.permissionDenied, "permission denied: role \(caller.token.role.rawValue) may not do this")
        }
        return caller
    }
}

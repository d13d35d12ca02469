import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates requests by `X-Vault-Token` or `Authorization: Bearer` (a `cft_` token or an `sk_`
/// API key), binds them to a tenant and applies the request limits.
///
/// The tenant is the one named by `X-Vault-Namespace` (alias `X-Coffer-Tenant`), or the credential's
/// own when neither header is sent. A credential used for another tenant is refused with
/// `TENANT_MISMATCH`, whatever its role, and without revealing whether that tenant exists.
public struct Authenticator: Sendable {
    let tokens: TokenService
    let apiKeys: APIKeyService
    let tenants: any TenantStore
    let audit: AuditService
    let limiter: RequestLimiter

    /// Creates an authenticator.
    public init(
        tokens: TokenService, apiKeys: APIKeyService, tenants: any TenantStore, audit: AuditService, tiers: RateLimitTiers,
        clock: any CofferClock, metrics: CofferMetrics? = nil
    ) {
        self.tokens = tokens
        self.apiKeys = apiKeys
        self.tenants = tenants
        self.audit = audit
        self.limiter = RequestLimiter(backend: apiKeys.limiter, tiers: tiers, clock: clock, metrics: metrics)
    }

    /// The presented credential, if any.
    public static func credential(_ request: Request) -> String? {
        if let token = request.headers[.vaultToken], !token.isEmpty { return token }
        guard let authorization = request.headers[.authorization] else { return nil }
        // `Bearer <credential>`, scheme case-insensitive, on bytes (this runs on every request).
        let bytes = Array(authorization.utf8)
        guard bytes.count > 7, bytes[6] == 32, zip(bytes[..<6], "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        var start = 7
        var end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The requested tenant name, normalised (`team-a/` → `team-a`), if a header names one.
    public static func requestedTenant(_ request: Request) -> String? {
        guard var name = request.headers[.vaultNamespace] ?? request.headers[.cofferTenant] else { return nil }
        while name.hasSuffix("/") { name.removeLast() }
        while name.hasPrefix("/") { name.removeFirst() }
        return name.isEmpty ? nil : name
    }

    /// Authenticates and returns the caller, or throws `UNAUTHENTICATED` / `TENANT_MISMATCH`, or
    /// `RATE_LIMITED` / `QUOTA_EXCEEDED` when a request limit refuses the request.
    /// Publishable (`pk_`) keys are accepted only when `allowPublishable` is set (gateway calls, which
    /// then require an allowed browser origin); everywhere else they are `UNAUTHENTICATED`.
    public func authenticate(_ request: Request, _ context: CofferRequestContext, allowPublishable: Bool = false) async throws -> Caller {
        let caller: Caller
        do {
            caller = try await resolve(request, context, allowPublishable: allowPublishable)
        } catch let error as CofferError where error.code == .unauthenticated {
            if context.work.isAudited, context.work.tenantID == nil {
                // A failed authentication goes to the requested tenant's chain, else the system tenant's.
                var tenant: Tenant?
                if let requested = Self.requestedTenant(request) { tenant = try await tenants.tenant(named: requested) }
                if tenant == nil { tenant = try await tenants.systemTenant() }
                if let tenant { try identify(tenant, .anonymous, operation: "auth.failed", in: context.work) }
            }
            try await limiter.admitAnonymous(clientIP: context.clientIP, notes: context.notes)
            throw error
        }
        try await limiter.admit(caller, notes: context.notes)
        return caller
    }

    /// The caller behind the request's credential, bound to its tenant.
    func resolve(_ request: Request, _ context: CofferRequestContext, allowPublishable: Bool = false) async throws -> Caller {
        guard let presented = Self.credential(request) else {
            throw CofferError(.unauthenticated, "permission denied: missing client token")
        }
        let credential: Caller.Credential
        let tenantID: String
        let publishable = presented.hasPrefix("pk_")
        if publishable && !allowPublishable {
            throw CofferError(.unauthenticated, "permission denied: publishable keys only call gateway routes")
        }
        if presented.hasPrefix("sk_") || publishable {
            // The same checks as verify: revoked, expired, and the key's IP allow-list against the peer address.
            guard let key = try await apiKeys.authenticate(presented, clientIP: context.clientIP) else {
                try await noteDeadKey(presented, context)
                throw CofferError(.unauthenticated, "permission denied: invalid API key")
            }
            credential = .apiKey(key)
            tenantID = key.tenantID
        } else {
            let token = try await tokens.authenticate(presented, clientIP: context.clientIP)
            credential = .token(token)
            tenantID = token.tenantID
        }
        guard let tenant = try await tenants.tenant(id: tenantID) else { throw CofferError(.unauthenticated, "permission denied") }
        let caller = Caller(credential: credential, tenant: tenant)
        if let requested = Self.requestedTenant(request), requested != tenant.name {
            // Recorded in the credential's own tenant: the attempt says something about that credential.
            try identify(tenant, caller.actor, operation: "auth.tenant_mismatch", in: context.work)
            throw CofferError(.tenantMismatch, "permission denied: this credential belongs to another tenant")
        }
        try identify(tenant, caller.actor, operation: nil, in: context.work)
        return caller
    }

    /// A revoked or expired key presented: the failure goes to the key's own tenant's chain with
    /// `key_state` (for the `revoked_key_use` alert), naming the key by id only.
    func noteDeadKey(_ presented: String, _ context: CofferRequestContext) async throws {
        guard context.work.isAudited, let (record, state) = try await apiKeys.deadKey(presented) else { return }
        guard let tenant = try await tenants.tenant(id: record.tenantID) else { return }
        try identify(
            tenant, AuditActor(kind: "api_key", id: record.id, role: "", displayName: record.name), operation: "auth.failed", in: context.work)
        context.work.addDetails(["key_state": state])
    }

    func identify(_ tenant: Tenant, _ actor: AuditActor, operation: String?, in work: UnitOfWork) throws(CofferError) {
        guard work.isAudited else { return }
        let redactor = try audit.redactor(tenantID: tenant.id)
        work.identify(tenantID: tenant.id, actor: actor) { redactor.redact($0) }
        if let operation { work.describe(operation, "auth", "") }
    }

    /// Authenticates and checks the caller may do `action` (on `target`): by role for tokens, by scope for API keys.
    public func authorize(
        _ request: Request, _ context: CofferRequestContext, _ action: Role.Action, target: String? = nil
    ) async throws -> Caller {
        let caller = try await authenticate(request, context)
        guard caller.may(action, target: target) else {
            switch caller.credential {
            case .token(let token):
                if token.role.allows(action), let need = action.requirement(target: nil) {
                    throw CofferError(
                        .permissionDenied, "permission denied: this token's scopes do not cover this request (\(need.resource):\(need.action))")
                }
                throw CofferError(.permissionDenied, "permission denied: role \(token.role.rawValue) may not do this")
            case .apiKey:
                let needed = action.requirement(target: nil).map { "\($0.resource):\($0.action)" } ?? "a token"
                throw CofferError(.permissionDenied, "permission denied: this API key lacks the scope for this request (\(needed))")
            }
        }
        return caller
    }
}

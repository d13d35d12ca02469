/// A token's role within its tenant (role-based access control).
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads secrets and metadata.
    case viewer
    /// Creates, updates and deletes secrets.
    case modifier
    /// Reads the audit log and nothing else.
    case auditor
    /// Everything, including tokens, tenants and audit retention.
    case admin

    /// What a request wants to do.
    public enum Action: Sendable, CaseIterable {
        /// Read secret values or metadata, list paths.
        case readSecrets
        /// Write, delete, undelete, destroy secrets and metadata.
        case writeSecrets
        /// Read the audit log.
        case readAudit
        /// Delete old audit entries (retention).
        case manageAudit
        /// Create tokens of a role no higher than one's own.
        case createTokens
        /// Create, change and delete token roles, and revoke a token leaving its children as orphans.
        case manageTokens
        /// Enable, tune, configure and disable secrets-engine mounts.
        case manageMounts
        /// Manage the keyring (rotate data keys, re-encrypt).
        case manageKeyring
        /// Create and list tenants (admins of the system tenant only).
        case manageTenants
        /// Create, list, change, revoke and rotate API keys.
        case manageKeys
        /// Verify API keys (`POST /v1/keys/verify`).
        case verifyKeys
        /// Read and list transit keys and protection policies (public parts only).
        case readTransit
        /// Create, configure, rotate, trim and delete transit keys.
        case manageTransit
        /// Encrypt (and rewrap, and make data keys) with a transit key.
        case transitEncrypt
        /// Decrypt with a transit key.
        case transitDecrypt
        /// Sign with a transit key.
        case transitSign
        /// Verify signatures and HMACs with a transit key.
        case transitVerify
        /// Compute HMACs with a transit key.
        case transitHMAC
        /// Create and change protection policies.
        case managePolicies
        /// Protect payloads under a policy.
        case protectPayload
        /// Unprotect payloads under a policy.
        case unprotectPayload
        /// Read gateway projects.
        case readGateway
        /// Create, change and delete gateway projects.
        case manageGateway
        /// Call upstreams through a gateway project.
        case proxyCall
        /// Enable, configure and disable auth methods; manage their users, roles and secret IDs; revoke sessions.
        case manageAuth
        /// Read the server's operational metrics (`/metrics`; callers of the system tenant only).
        case readMetrics
        /// Read alerts, alert rules and channels.
        case readAlerts
        /// Acknowledge alerts, change rules and channels, send test alerts.
        case manageAlerts
    }

    /// Whether this role may perform `action`.
    public func allows(_ action: Action) -> Bool {
        switch (self, action) {
        case (.admin, _): return true
        case (.auditor, .readAudit), (.auditor, .readMetrics), (.auditor, .readAlerts): return true
        case (.auditor, _): return false
        case (.viewer, .readSecrets), (.modifier, .readSecrets), (.modifier, .writeSecrets): return true
        case (.viewer, .createTokens), (.modifier, .createTokens): return true
        case (.viewer, .verifyKeys), (.modifier, .verifyKeys): return true
        case (.viewer, .readTransit), (.modifier, .readTransit), (.viewer, .transitVerify): return true
        case (.modifier, .transitEncrypt), (.modifier, .transitDecrypt), (.modifier, .transitSign), (.modifier, .transitVerify),
            (.modifier, .transitHMAC), (.modifier, .protectPayload), (.modifier, .unprotectPayload):
            return true
        case (.viewer, .readGateway), (.modifier, .readGateway), (.modifier, .manageGateway), (.modifier, .proxyCall): return true
        default: return false
        }
    }

    /// Whether a token of this role may mint a token of `role`.
    public func canGrant(_ role: Role) -> Bool {
        switch self {
        case .admin: return true
        case .auditor: return false
        case .modifier: return role == .viewer || role == .modifier
        case .viewer: return role == .viewer
        }
    }

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .auditor: 1
        case .modifier: 2
        case .admin: 3
        }
    }

    /// Orders roles by privilege.
    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
}

extension Role.Action {
    /// The scope an API key needs for this action on `target` (`kv:read:<path>`, `keys:verify`, …);
    /// `nil` when API keys may not do it at all (minting tokens).
    public func requirement(target: String? = nil) -> APIKeyVerifier.Requirement? {
        switch self {
        case .readSecrets: APIKeyVerifier.Requirement(resource: "kv", action: "read", target: target)
        case .writeSecrets: APIKeyVerifier.Requirement(resource: "kv", action: "write", target: target)
        case .readAudit: APIKeyVerifier.Requirement(resource: "audit", action: "read")
        case .manageAudit: APIKeyVerifier.Requirement(resource: "audit", action: "manage")
        case .createTokens: nil
        case .manageTokens: APIKeyVerifier.Requirement(resource: "tokens", action: "manage")
        case .manageMounts: APIKeyVerifier.Requirement(resource: "mounts", action: "manage")
        case .manageKeyring: APIKeyVerifier.Requirement(resource: "keyring", action: "manage")
        case .manageTenants: APIKeyVerifier.Requirement(resource: "tenants", action: "manage")
        case .manageKeys: APIKeyVerifier.Requirement(resource: "keys", action: "manage")
        case .verifyKeys: APIKeyVerifier.Requirement(resource: "keys", action: "verify")
        case .readTransit: APIKeyVerifier.Requirement(resource: "transit", action: "read", target: target)
        case .manageTransit: APIKeyVerifier.Requirement(resource: "transit", action: "manage", target: target)
        case .transitEncrypt: APIKeyVerifier.Requirement(resource: "transit", action: "encrypt", target: target)
        case .transitDecrypt: APIKeyVerifier.Requirement(resource: "transit", action: "decrypt", target: target)
        case .transitSign: APIKeyVerifier.Requirement(resource: "transit", action: "sign", target: target)
        case .transitVerify: APIKeyVerifier.Requirement(resource: "transit", action: "verify", target: target)
        case .transitHMAC: APIKeyVerifier.Requirement(resource: "transit", action: "hmac", target: target)
        case .managePolicies: APIKeyVerifier.Requirement(resource: "policies", action: "manage", target: target)
        case .protectPayload: APIKeyVerifier.Requirement(resource: "protect", action: "protect", target: target)
        case .unprotectPayload: APIKeyVerifier.Requirement(resource: "protect", action: "unprotect", target: target)
        case .readGateway: APIKeyVerifier.Requirement(resource: "gateway", action: "read", target: target)
        case .manageGateway: APIKeyVerifier.Requirement(resource: "gateway", action: "manage", target: target)
        case .proxyCall: APIKeyVerifier.Requirement(resource: "proxy", action: "call", target: target)
        case .manageAuth: APIKeyVerifier.Requirement(resource: "auth", action: "manage", target: target)
        case .readMetrics: APIKeyVerifier.Requirement(resource: "metrics", action: "read")
        case .readAlerts: APIKeyVerifier.Requirement(resource: "alerts", action: "read")
        case .manageAlerts: APIKeyVerifier.Requirement(resource: "alerts", action: "manage")
        }
    }
}

/// A JWT/OIDC role (`auth/<path>/role/<name>`): which tokens it accepts (audiences, subject, claims,
/// with leeways for clock skew) and what they get — a fixed Coffer role, or one mapped from a claim
/// such as `groups` or `/realm_access/roles`, optionally only when another claim names the tenant.
public struct JWTRole: Sendable, Hashable {
    /// Name.
    public var name: String
    /// `jwt` (tokens from a client) or `oidc` (the browser flow; Vault's).
    public var roleType: String = "jwt"
    /// Audiences, one of which the token's `aud` must hold. Required when the token has an `aud`.
    public var boundAudiences: [String] = []
    /// The `sub` the token must carry, if set.
    public var boundSubject: String = ""
    /// Claims the token must carry, each with one of the listed values (globs when `boundClaimsType` is `glob`).
    public var boundClaims: [String: [String]] = [:]
    /// `string` or `glob`.
    public var boundClaimsType: String = "string"
    /// The claim naming the user (default `sub`).
    public var userClaim: String = "sub"
    /// The claim listing the user's groups (a name or a JSON pointer such as `/realm_access/roles`).
    public var groupsClaim: String = ""
    /// Claims copied into the token's metadata: claim → metadata key.
    public var claimMappings: [String: String] = [:]
    /// Seconds of clock skew allowed on `iat`, `exp` and `nbf`.
    public var clockSkewLeeway: Int64 = 60
    /// Extra seconds after `exp`.
    public var expirationLeeway: Int64 = 150
    /// Extra seconds before `nbf`.
    public var notBeforeLeeway: Int64 = 150
    /// Redirect URIs of the browser flow (Vault's; stored and read back).
    public var allowedRedirectURIs: [String] = []
    /// OIDC scopes of the browser flow (Vault's; stored and read back).
    public var oidcScopes: [String] = []
    /// Group → Coffer role (`coffer_role_map`); the highest role any of the user's groups maps to wins.
    public var roleMap: [String: Role] = [:]
    /// A claim that must equal the tenant's name (`coffer_tenant_claim`), so one IdP serves many tenants.
    public var tenantClaim: String = ""
    /// The token a login yields (`settings.role` nil: mapped from groups).
    public var settings: LoginTokenSettings

    /// Creates a role.
    public init(name: String, settings: LoginTokenSettings) {
        self.name = name
        self.settings = settings
    }

    /// What a verified token's claims grant.
    public struct Grant: Sendable, Hashable {
        /// The user claim's value.
        public var subject: String
        /// Coffer's role.
        public var role: Role
        /// Metadata from `claimMappings` (and the role name).
        public var metadata: [String: String]
    }

    /// Checks verified claims at `now` (ms) against the role and the method's issuer: time claims with
    /// leeways, issuer, audiences, subject, bound claims, user claim, tenant claim, and the role mapping.
    /// `JWT_EXPIRED` for time, `JWT_INVALID` for the rest, `PERMISSION_DENIED` when no group maps to a role.
    public func grant(claims: [String: JSONValue], issuer: String, tenantName: String, now: Int64) throws(CofferError) -> Grant {
        let seconds = now / 1000
        // The client's numbers are compared, never added to (an exp of Int.max must not overflow).
        guard let expiry = claims["exp"]?.intValue.map(Int64.init) else { throw CofferError(.jwtInvalid, "the JWT has no exp claim") }
        guard expiry >= seconds - clockSkewLeeway - expirationLeeway else { throw CofferError(.jwtExpired, "the JWT has expired") }
        if let value = claims["nbf"] {
            guard let notBefore = value.intValue.map(Int64.init) else { throw CofferError(.jwtInvalid, "the JWT's nbf is not a number") }
            guard notBefore <= seconds + clockSkewLeeway + notBeforeLeeway else { throw CofferError(.jwtExpired, "the JWT is not valid yet (nbf)") }
        }
        if let value = claims["iat"] {
            guard let issuedAt = value.intValue.map(Int64.init) else { throw CofferError(.jwtInvalid, "the JWT's iat is not a number") }
            guard issuedAt <= seconds + clockSkewLeeway else { throw CofferError(.jwtInvalid, "the JWT was issued in the future (iat)") }
        }
        if !issuer.isEmpty {
            guard let iss = claims["iss"]?.stringValue, iss.utf8.elementsEqual(issuer.utf8) else {
                throw CofferError(.jwtInvalid, "the JWT's issuer is not the one this method trusts")
            }
        }
        let audiences: [String]? =
            switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            case nil, .null?: nil
            default: []
            }
        if boundAudiences.isEmpty {
            guard audiences == nil else { throw CofferError(.jwtInvalid, "the JWT has an audience but the role binds none") }
        } else {
            guard let audiences, audiences.contains(where: { aud in boundAudiences.contains { $0.utf8.elementsEqual(aud.utf8) } }) else {
                throw CofferError(.jwtInvalid, "the JWT is not for an audience this role accepts")
            }
        }
        if !boundSubject.isEmpty {
            guard let subject = claims["sub"]?.stringValue, subject.utf8.elementsEqual(boundSubject.utf8) else {
                throw CofferError(.jwtInvalid, "the JWT's subject is not the one this role accepts")
            }
        }
        for name in boundClaims.keys.sorted() {
            let allowed = boundClaims[name] ?? []
            let values = Self.strings(Self.claim(name, in: claims))
            let matched = values.contains { value in
                allowed.contains { boundClaimsType == "glob" ? Glob.matches($0, value) : $0.utf8.elementsEqual(value.utf8) }
            }
            guard matched else { throw CofferError(.jwtInvalid, "the JWT's claim '\(name.prefix(64))' does not have a value this role accepts") }
        }
        guard let subject = Self.claim(userClaim, in: claims)?.stringValue ?? Self.claim(userClaim, in: claims)?.intValue.map(String.init),
            (1...256).contains(subject.utf8.count), subject.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f })
        else { throw CofferError(.jwtInvalid, "the JWT has no usable '\(userClaim.prefix(64))' claim (user_claim)") }
        if !tenantClaim.isEmpty {
            guard Self.strings(Self.claim(tenantClaim, in: claims)).contains(where: { $0.utf8.elementsEqual(tenantName.utf8) }) else {
                throw CofferError(.jwtInvalid, "the JWT's '\(tenantClaim.prefix(64))' claim does not name this tenant")
            }
        }
        var metadata = ["role": name]
        for (claimName, key) in claimMappings {
            if let value = Self.claim(claimName, in: claims),
                let text = value.stringValue ?? value.intValue.map(String.init) ?? value.boolValue.map(String.init)
            {
                metadata[key] = String(text.prefix(512))
            }
        }
        let groups = groupsClaim.isEmpty ? [] : Self.strings(Self.claim(groupsClaim, in: claims))
        if !groupsClaim.isEmpty { metadata["groups"] = String(groups.sorted().joined(separator: ",").prefix(512)) }
        var role = settings.role
        let mapped = groups.compactMap { roleMap[$0] }.max()
        if let mapped { role = max(role ?? mapped, mapped) }
        guard let role else { throw CofferError(.permissionDenied, "none of the JWT's groups maps to a Coffer role in this role's coffer_role_map") }
        return Grant(subject: subject, role: role, metadata: metadata)
    }

    /// A claim by name, or by JSON pointer (`/realm_access/roles`), or by dotted path (`realm_access.roles`)
    /// when no claim has the dotted name itself.
    public static func claim(_ name: String, in claims: [String: JSONValue]) -> JSONValue? {
        if name.hasPrefix("/") {
            var current: JSONValue = .object(claims)
            for part in name.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = current.objectValue?[key] else { return nil }
                current = next
            }
            return current
        }
        if let direct = claims[name] { return direct }
        guard name.contains(".") else { return nil }
        return claim("/" + name.split(separator: ".", omittingEmptySubsequences: false).joined(separator: "/"), in: claims)
    }

    /// A claim's string values: the string, or the strings of an array.
    static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let one)?: [one]
        case .array(let many)?: many.compactMap(\.stringValue)
        default: []
        }
    }
}

extension JWTRole {
    /// The stored form.
    public var document: JSONValue {
        .object([
            "role_type": .string(roleType), "bound_audiences": Self.list(boundAudiences), "bound_subject": .string(boundSubject),
            "bound_claims": .object(boundClaims.mapValues { Self.list($0) }), "bound_claims_type": .string(boundClaimsType),
            "user_claim": .string(userClaim), "groups_claim": .string(groupsClaim),
            "claim_mappings": .object(claimMappings.mapValues { .string($0) }),
            "clock_skew_leeway": .int(clockSkewLeeway), "expiration_leeway": .int(expirationLeeway), "not_before_leeway": .int(notBeforeLeeway),
            "allowed_redirect_uris": Self.list(allowedRedirectURIs), "oidc_scopes": Self.list(oidcScopes),
            "coffer_role_map": .object(roleMap.mapValues { .string($0.rawValue) }), "coffer_tenant_claim": .string(tenantClaim),
            "settings": .object(settings.document),
        ])
    }

    /// Reads the stored form (`STORAGE_CORRUPT` if unreadable).
    public init(name: String, document: JSONValue) throws(CofferError) {
        let corrupt = CofferError(.storageCorrupt, "a stored JWT role is malformed")
        guard let members = document.objectValue, let settings = members["settings"]?.objectValue else { throw corrupt }
        self.init(name: name, settings: try LoginTokenSettings(document: settings))
        func text(_ key: String) throws(CofferError) -> String {
            guard let value = members[key]?.stringValue else { throw corrupt }
            return value
        }
        func texts(_ value: JSONValue?) throws(CofferError) -> [String] {
            guard case .array(let items)? = value else { throw corrupt }
            var out: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw corrupt }
                out.append(text)
            }
            return out
        }
        func number(_ key: String) throws(CofferError) -> Int64 {
            guard let value = members[key]?.intValue, value >= 0 else { throw corrupt }
            return Int64(value)
        }
        roleType = try text("role_type")
        boundAudiences = try texts(members["bound_audiences"])
        boundSubject = try text("bound_subject")
        boundClaimsType = try text("bound_claims_type")
        userClaim = try text("user_claim")
        groupsClaim = try text("groups_claim")
        tenantClaim = try text("coffer_tenant_claim")
        clockSkewLeeway = try number("clock_skew_leeway")
        expirationLeeway = try number("expiration_leeway")
        notBeforeLeeway = try number("not_before_leeway")
        allowedRedirectURIs = try texts(members["allowed_redirect_uris"])
        oidcScopes = try texts(members["oidc_scopes"])
        guard let claims = members["bound_claims"]?.objectValue, let mappings = members["claim_mappings"]?.objectValue,
            let map = members["coffer_role_map"]?.objectValue
        else { throw corrupt }
        for (key, value) in claims { boundClaims[key] = try texts(value) }
        for (key, value) in mappings {
            guard let text = value.stringValue else { throw corrupt }
            claimMappings[key] = text
        }
        for (key, value) in map {
            guard let text = value.stringValue, let role = Role(rawValue: text) else { throw corrupt }
            roleMap[key] = role
        }
    }

    static func list(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
}

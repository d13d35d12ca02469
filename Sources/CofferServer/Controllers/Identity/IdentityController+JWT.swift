import CofferCore
import HTTPTypes
import Hummingbird

extension IdentityController {
    /// Vault's read-back of a JWT method's configuration.
    static func describeJWTConfig(_ config: JWTAuthConfig) -> JSONValue {
        [
            "oidc_discovery_url": .string(config.oidcDiscoveryURL), "jwks_url": .string(config.jwksURL),
            "jwt_validation_pubkeys": .array(config.validationPubkeys.map { .string($0) }), "bound_issuer": .string(config.boundIssuer),
            "jwt_supported_algs": .array(config.supportedAlgorithms.map { .string($0) }), "default_role": .string(config.defaultRole),
            "oidc_client_id": .string(config.oidcClientID), "coffer_oidc_client_secret_ref": .string(config.oidcClientSecretRef),
            "oidc_discovery_ca_pem": "", "jwks_ca_pem": "", "oidc_response_mode": "",
            "oidc_response_types": .array([]), "provider_config": .object([:]), "namespace_in_state": true,
        ]
    }

    /// A JWT method's configuration from a request (a new one each time, as Vault's `config` write).
    static func jwtConfig(_ object: [String: JSONValue]) throws -> JWTAuthConfig {
        try object.admit(
            [
                "oidc_discovery_url", "jwks_url", "jwt_validation_pubkeys", "bound_issuer", "jwt_supported_algs", "default_role", "oidc_client_id",
                "coffer_oidc_client_secret_ref",
            ],
            defaultsOnly: [
                "oidc_discovery_ca_pem": [""], "jwks_ca_pem": [""], "oidc_response_mode": ["", "query"],
                "oidc_response_types": [.array([]), .array(["code"]), "code"], "provider_config": [.object([:])],
                "namespace_in_state": [true, false],
            ], outcome: "nothing was changed")
        if let secret = try object.string("oidc_client_secret"), !secret.isEmpty {
            throw CofferError(
                .invalidRequest,
                "oidc_client_secret: Coffer keeps secrets in KV; store it there and set coffer_oidc_client_secret_ref to \"<mount>/<path>#<field>\"; nothing was changed"
            )
        }
        var config = JWTAuthConfig()
        config.oidcDiscoveryURL = try object.string("oidc_discovery_url") ?? ""
        config.jwksURL = try object.string("jwks_url") ?? ""
        config.validationPubkeys = try object.stringList("jwt_validation_pubkeys") ?? []
        config.boundIssuer = try object.string("bound_issuer") ?? ""
        config.supportedAlgorithms = try LoginSettingsRequest.names(object, "jwt_supported_algs") ?? []
        config.defaultRole = try object.string("default_role") ?? ""
        config.oidcClientID = try object.string("oidc_client_id") ?? ""
        config.oidcClientSecretRef = try object.string("coffer_oidc_client_secret_ref") ?? ""
        if !config.oidcClientSecretRef.isEmpty {
            _ = try GatewayCredential.parse(
                ["placement": "bearer", "secret": .string(config.oidcClientSecretRef)], path: "coffer_oidc_client_secret_ref")
        }
        guard config.boundIssuer.utf8.count <= 2_048, config.defaultRole.utf8.count <= 128, config.oidcClientID.utf8.count <= 512 else {
            throw CofferError(.invalidRequest, "bound_issuer, default_role or oidc_client_id is too long")
        }
        try config.validate()
        return config
    }

    /// Vault's read-back of a JWT role.
    static func describe(_ role: JWTRole) -> JSONValue {
        var fields = role.settings.vaultFields
        let list = { (values: [String]) in JSONValue.array(values.map { .string($0) }) }
        fields["role_type"] = .string(role.roleType)
        fields["bound_audiences"] = list(role.boundAudiences)
        fields["bound_subject"] = .string(role.boundSubject)
        fields["bound_claims"] = role.boundClaims.isEmpty ? .null : .object(role.boundClaims.mapValues(list))
        fields["bound_claims_type"] = .string(role.boundClaimsType)
        fields["user_claim"] = .string(role.userClaim)
        fields["groups_claim"] = .string(role.groupsClaim)
        fields["claim_mappings"] = role.claimMappings.isEmpty ? .null : .object(role.claimMappings.mapValues { .string($0) })
        fields["clock_skew_leeway"] = .int(role.clockSkewLeeway)
        fields["expiration_leeway"] = .int(role.expirationLeeway)
        fields["not_before_leeway"] = .int(role.notBeforeLeeway)
        fields["allowed_redirect_uris"] = list(role.allowedRedirectURIs)
        fields["oidc_scopes"] = list(role.oidcScopes)
        fields["verbose_oidc_logging"] = false
        fields["coffer_role_map"] = .object(role.roleMap.mapValues { .string($0.rawValue) })
        fields["coffer_tenant_claim"] = .string(role.tenantClaim)
        return .object(fields)
    }

    static let jwtRoleFields: Set<String> = [
        "name", "role_type", "bound_audiences", "bound_subject", "bound_claims", "bound_claims_type", "user_claim", "groups_claim",
        "claim_mappings", "clock_skew_leeway", "expiration_leeway", "not_before_leeway", "allowed_redirect_uris", "oidc_scopes",
        "coffer_role_map", "coffer_tenant_claim", "user_claim_json_pointer",
    ]

    /// A JWT role from a request, on top of the current one.
    static func jwtRole(_ object: [String: JSONValue], name: String, current: JWTRole?) throws -> JWTRole {
        try object.admit(
            LoginSettingsRequest.fields.union(jwtRoleFields),
            defaultsOnly: ["verbose_oidc_logging": [false], "max_age": [0, ""], "groups_claim_delimiter_pattern": [""]],
            outcome: "nothing was changed")
        if let given = try object.string("name"), given != name { throw CofferError(.invalidRequest, "name differs from the role in the path") }
        var role = current ?? JWTRole(name: name, settings: LoginTokenSettings(role: nil))
        try LoginSettingsRequest.apply(object, to: &role.settings)
        if let type = try object.string("role_type") {
            guard ["jwt", "oidc"].contains(type) else { throw CofferError(.invalidRequest, "role_type must be jwt or oidc") }
            role.roleType = type
        }
        if let type = try object.string("bound_claims_type") {
            guard ["string", "glob"].contains(type) else { throw CofferError(.invalidRequest, "bound_claims_type must be string or glob") }
            role.boundClaimsType = type
        }
        for (key, path) in [
            ("bound_audiences", \JWTRole.boundAudiences), ("allowed_redirect_uris", \.allowedRedirectURIs), ("oidc_scopes", \.oidcScopes),
        ] {
            if let values = try LoginSettingsRequest.names(object, key) { role[keyPath: path] = values }
        }
        for (key, path) in [
            ("bound_subject", \JWTRole.boundSubject), ("user_claim", \.userClaim), ("groups_claim", \.groupsClaim),
            ("coffer_tenant_claim", \.tenantClaim),
        ] {
            if let value = try object.string(key) {
                guard value.utf8.count <= 512 else { throw CofferError(.invalidRequest, "\(key) is at most 512 bytes") }
                role[keyPath: path] = value
            }
        }
        if role.userClaim.isEmpty { role.userClaim = "sub" }
        if let claims = try object.object("bound_claims") {
            var bound: [String: [String]] = [:]
            for (claim, value) in claims {
                if let one = value.stringValue {
                    bound[claim] = [one]
                } else if case .array(let many) = value, many.allSatisfy({ $0.stringValue != nil }) {
                    bound[claim] = many.compactMap(\.stringValue)
                } else {
                    throw CofferError(.invalidRequest, "bound_claims.\(claim.prefix(64)) must be a string or a list of strings")
                }
            }
            role.boundClaims = bound
        }
        if let mappings = try object.stringMap("claim_mappings") { role.claimMappings = mappings }
        if let map = try object.stringMap("coffer_role_map") {
            var roles: [String: Role] = [:]
            for (group, name) in map {
                guard let mapped = Role(rawValue: name) else {
                    throw CofferError(.invalidRequest, "coffer_role_map.\(group.prefix(64)): '\(name.prefix(64))' is not one of Coffer's roles")
                }
                roles[group] = mapped
            }
            role.roleMap = roles
        }
        // Vault's leeways: 0 means the default, -1 turns the leeway off.
        for (key, path, fallback) in [
            ("clock_skew_leeway", \JWTRole.clockSkewLeeway, Int64(60)), ("expiration_leeway", \.expirationLeeway, 150),
            ("not_before_leeway", \.notBeforeLeeway, 150),
        ] {
            if object[key]?.intValue == -1 {
                role[keyPath: path] = 0
                continue
            }
            guard let seconds = try object.duration(key) else { continue }
            guard seconds <= 3600 else { throw CofferError(.invalidRequest, "\(key) is at most 1 hour (or -1 for none)") }
            role[keyPath: path] = seconds == 0 ? fallback : seconds
        }
        return role
    }

    /// `POST auth/<path>/oidc/auth_url {role?, redirect_uri, client_nonce?}`: the provider's URL to send
    /// the browser to (no token needed; the tenant as for logins).
    func oidcAuthURL(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (tenant, method) = try await loginTarget(request, context, kinds: [.jwt, .oidc])
        let object = try await body.object(request, context)
        try object.admit(["role", "redirect_uri", "client_nonce"])
        guard let redirect = try object.string("redirect_uri") else { throw CofferError(.invalidRequest, "redirect_uri is required") }
        let url = try await identity.oidcAuthURL(
            tenant: tenant, method: method, roleName: try object.string("role"), redirectURI: redirect,
            clientNonce: try object.string("client_nonce") ?? "", provider: runtime.oidcProvider, in: context.work)
        return VaultResponse.data(["auth_url": .string(url)], context: context)
    }

    /// `GET|POST auth/<path>/oidc/callback?state=&code=&client_nonce=`: completes the login. (A
    /// form-posted callback must name its tenant with the namespace header.)
    func oidcCallback(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        // Without a namespace header (a browser sent straight here), the tenant the state names.
        let (tenant, method) = try await loginTarget(
            request, context, kinds: [.jwt, .oidc], fallbackTenant: query["state"].flatMap { IdentityService.tenantName(ofState: String($0)) })
        var fields: [String: String] = [:]
        for name in ["state", "code", "client_nonce"] { fields[name] = query[Substring(name)].map(String.init) }
        if request.method == .post {
            let object = try await body.object(request, context, recording: false)
            try object.admit(["state", "code", "client_nonce", "id_token"])
            for name in ["state", "code", "client_nonce"] { if let value = try object.string(name) { fields[name] = value } }
        }
        guard let state = fields["state"], let code = fields["code"] else { throw CofferError(.invalidRequest, "state and code are required") }
        return try await answerLogin(context, tenant: tenant) {
            try await identity.oidcCallback(
                tenant: tenant, method: method, state: state, code: code, clientNonce: fields["client_nonce"] ?? "", provider: runtime.oidcProvider,
                verifier: runtime.jwtLogins, in: context.work)
        }
    }
}

import CofferCore
import NIOCore

/// The identity provider's side of the OIDC browser flow: its authorization endpoint from discovery,
/// and the token endpoint (authorization code + PKCE verifier, the client secret from KV when the
/// client has one, sent as `client_secret_post`). Fetched through the gateway's upstream transport
/// with the same address rules as key URLs (`auth.allow_internal_urls`).
struct OIDCProviderClient: OIDCProviding {
    let keys: JWTLoginVerifier
    let upstream: UpstreamTransport
    let secrets: SecretService
    let allowInternal: Bool

    func discovery(_ config: JWTAuthConfig) async throws -> JSONValue {
        var base = config.oidcDiscoveryURL
        while base.hasSuffix("/") { base.removeLast() }
        return try await keys.fetchJSON(base + "/.well-known/openid-configuration", what: "oidc_discovery_url")
    }

    func authorizationEndpoint(_ config: JWTAuthConfig) async throws -> String {
        guard let endpoint = try await discovery(config)["authorization_endpoint"]?.stringValue,
            endpoint.hasPrefix("https://") || (allowInternal && endpoint.hasPrefix("http://"))
        else { throw CofferError(.upstreamUnavailable, "the OIDC discovery document names no usable authorization_endpoint") }
        return endpoint
    }

    func exchange(code: String, codeVerifier: String, redirectURI: String, config: JWTAuthConfig, tenant: Tenant) async throws -> String {
        guard let endpoint = try await discovery(config)["token_endpoint"]?.stringValue else {
            throw CofferError(.upstreamUnavailable, "the OIDC discovery document names no token_endpoint")
        }
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("client_id", config.oidcClientID),
            ("code_verifier", codeVerifier),
        ]
        if !config.oidcClientSecretRef.isEmpty {
            let credential = try GatewayCredential.parse(
                ["placement": "bearer", "secret": .string(config.oidcClientSecretRef)], path: "coffer_oidc_client_secret_ref")
            form.append(("client_secret", try await GatewayService.readCredential(secrets, tenant: tenant, credential)))
        }
        let provider: GatewayProvider
        do {
            provider = try GatewayProvider.parse(
                ["base_url": .string(endpoint), "allow_internal": .bool(allowInternal), "read_timeout_ms": 10_000, "max_response_bytes": 1_048_576],
                path: "token_endpoint")
        } catch {
            throw CofferError(
                .upstreamRefused, "the provider's token_endpoint is not a URL Coffer calls (https, or http with internal addresses allowed)")
        }
        var call = GatewayService.UpstreamCall.fetch(provider)
        call.method = "POST"
        call.headers = [("accept", "application/json"), ("content-type", "application/x-www-form-urlencoded")]
        call.body = Array(form.map { "\($0.0)=\(IdentityService.formEncode($0.1))" }.joined(separator: "&").utf8)
        let answer: UpstreamTransport.Answer
        do {
            answer = try await upstream.perform(call)
        } catch let error as CofferError {
            throw CofferError(error.code, "the provider's token endpoint could not be reached (\(error.code.rawValue))")
        }
        // The provider's refusal (a used or foreign code) is the login's failure, never echoed.
        guard answer.status == 200, let document = JSONValue.parse(Array(buffer: answer.body)), let idToken = document["id_token"]?.stringValue
        else { throw CofferError(.loginFailed, "the identity provider did not exchange the code for an ID token (status \(answer.status))") }
        return idToken
    }
}

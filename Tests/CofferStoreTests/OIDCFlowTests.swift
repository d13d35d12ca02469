import CofferCore
import CofferStore
import CofferTestSupport
import Foundation
import Synchronization
import Testing

/// The OIDC browser flow's rules in the identity service, over real storage on each engine, with the
/// provider and signature check stood in for (the real provider process is in the interop test): a
/// state is used once and within 10 minutes, the ID token must carry the state's nonce and be for the
/// client, the client's own nonce must come back, and redirect URIs are the role's.
@Suite("OIDC browser flow")
struct OIDCFlowTests {
    /// A provider whose token endpoint answers `idToken`, and a verifier that returns `claims` for it.
    final class Provider: OIDCProviding, JWTSignatureVerifying {
        let claims = Mutex<[String: JSONValue]>([:])
        func authorizationEndpoint(_ config: JWTAuthConfig) async throws -> String { "https://idp.example.com/authorize" }
        func exchange(code: String, codeVerifier: String, redirectURI: String, config: JWTAuthConfig, tenant: Tenant) async throws -> String {
            guard code == "good-code", codeVerifier.utf8.count >= 43 else { throw CofferError(.loginFailed, "the provider refused the code") }
            return "id-token"
        }
        func verify(_ jwt: String, config: JWTAuthConfig, cacheKey: String) async throws -> (claims: [String: JSONValue], discoveredIssuer: String?) {
            (claims.withLock { $0 }, "https://idp.example.com")
        }
    }

    static func withFlow(
        _ engine: StorageEngine, _ body: (IdentityService, AuthMethod, Tenant, Provider, ManualClock) async throws -> Void
    ) async throws {
        try await StorageConformanceTests.withStorage(engine) { storage, _ in
            let (tenant, key) = StorageConformanceTests.tenant("oidc")
            try await storage.tenants.createTenant(tenant, firstKey: key)
            let clock = ManualClock()
            let hasher = CredentialHasher(keyBytes: [UInt8](repeating: 3, count: 32))
            let tokens = TokenService(store: storage.tokens, hasher: hasher, clock: clock)
            let service = IdentityService(store: storage.identity, tokens: tokens, tokenStore: storage.tokens, hasher: hasher, clock: clock) { _ in }
            var method = try await service.enable(tenant: tenant, path: "oidc", kind: .oidc, description: "", in: .unaudited())
            var config = JWTAuthConfig()
            config.oidcDiscoveryURL = "https://idp.example.com"
            config.oidcClientID = "coffer-web"
            try await service.configure(tenant: tenant, method, config: config.document, in: .unaudited())
            method.config = config.document
            var role = JWTRole(name: "people", settings: LoginTokenSettings(role: .viewer))
            role.allowedRedirectURIs = ["http://localhost:8250/oidc/callback", "https://app.example.com/cb"]
            try await service.writeJWTRole(tenant: tenant, method: method, role, in: .unaudited())
            try await body(service, method, tenant, Provider(), clock)
        }
    }

    static func start(
        _ service: IdentityService, _ method: AuthMethod, _ tenant: Tenant, _ provider: Provider, redirect: String, clientNonce: String = "cn"
    )
        async throws -> (state: String, nonce: String)
    {
        let url = try await service.oidcAuthURL(
            tenant: tenant, method: method, roleName: "people", redirectURI: redirect, clientNonce: clientNonce, provider: provider, in: .unaudited())
        let query = Dictionary(uniqueKeysWithValues: (URLComponents(string: url)?.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(query["code_challenge_method"] == "S256" && query["client_id"] == "coffer-web" && query["scope"] == "openid")
        return (try #require(query["state"]), try #require(query["nonce"]))
    }

    @Test(arguments: StorageEngine.available)
    func statesAreUsedOnceInTimeAndTokensMustCarryTheirNonce(engine: StorageEngine) async throws {
        try await Self.withFlow(engine) { service, method, tenant, provider, clock in
            let now = clock.nowMillis / 1000
            func claims(nonce: String, aud: String = "coffer-web") -> [String: JSONValue] {
                ["iss": "https://idp.example.com", "sub": "erin", "aud": .string(aud), "exp": .int(now + 300), "nonce": .string(nonce)]
            }
            func callback(_ state: String, code: String = "good-code", clientNonce: String = "cn") async throws -> IdentityService.Login {
                try await service.oidcCallback(
                    tenant: tenant, method: method, state: state, code: code, clientNonce: clientNonce, provider: provider, verifier: provider,
                    in: .unaudited())
            }
            // Any port on a loopback redirect (RFC 8252), nothing else the role does not list.
            let (state, nonce) = try await Self.start(service, method, tenant, provider, redirect: "http://localhost:41234/oidc/callback")
            #expect(IdentityService.tenantName(ofState: state) == tenant.name, "the state names its tenant for a browser sent straight back")
            await expectError(.invalidRequest) {
                _ = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/other")
            }
            await expectError(.invalidRequest) {
                _ = try await Self.start(service, method, tenant, provider, redirect: "http://localhost.evil:1/oidc/callback")
            }
            provider.claims.withLock { $0 = claims(nonce: nonce) }
            let login = try await callback(state)
            #expect(login.record.role == .viewer && login.record.origin == LoginOrigin(mount: "oidc", role: "people", subject: "erin"))
            await expectError(.loginFailed) { _ = try await callback(state) }

            // Another login's nonce in the ID token: refused.
            let (second, _) = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/cb")
            await expectError(.jwtInvalid) { _ = try await callback(second) }
            // For another client: refused.
            let (third, thirdNonce) = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/cb")
            provider.claims.withLock { $0 = claims(nonce: thirdNonce, aud: "another-client") }
            await expectError(.jwtInvalid) { _ = try await callback(third) }
            // The client's own nonce must come back.
            let (fourth, fourthNonce) = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/cb")
            provider.claims.withLock { $0 = claims(nonce: fourthNonce) }
            await expectError(.loginFailed) { _ = try await callback(fourth, clientNonce: "other") }
            // A code the provider refuses.
            let (fifth, fifthNonce) = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/cb")
            provider.claims.withLock { $0 = claims(nonce: fifthNonce) }
            await expectError(.loginFailed) { _ = try await callback(fifth, code: "stolen") }
            // Ten minutes later the state is gone.
            let (late, lateNonce) = try await Self.start(service, method, tenant, provider, redirect: "https://app.example.com/cb")
            provider.claims.withLock { $0 = claims(nonce: lateNonce) }
            clock.advance(millis: OIDCLoginState.lifetimeMillis)
            await expectError(.loginFailed) { _ = try await callback(late) }
            await expectError(.loginFailed) { _ = try await callback("st_" + String(repeating: "x", count: 43)) }
        }
    }
}

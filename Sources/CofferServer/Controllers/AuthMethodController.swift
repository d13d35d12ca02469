import CofferCore
import HTTPTypes
import Hummingbird

/// Vault's `sys/auth` API — list, read, enable, tune and disable auth methods per tenant — and Coffer's
/// `auth/<path>/sessions/revoke`, which ends every session of a user or a role in one call.
public struct AuthMethodController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var identity: IdentityService { runtime.identity }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 64 * 1024)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/sys/auth") { request, context in try await list(request, context) }
        router.get("/v1/sys/auth/:path") { request, context in try await read(request, context) }
        router.post("/v1/sys/auth/:path") { request, context in try await enable(request, context) }
        router.put("/v1/sys/auth/:path") { request, context in try await enable(request, context) }
        router.delete("/v1/sys/auth/:path") { request, context in try await disable(request, context) }
        router.get("/v1/sys/auth/:path/tune") { request, context in try await readTune(request, context) }
        router.post("/v1/sys/auth/:path/tune") { request, context in try await tune(request, context) }
        router.put("/v1/sys/auth/:path/tune") { request, context in try await tune(request, context) }
        router.post("/v1/auth/:mount/sessions/revoke") { request, context in try await revokeSessions(request, context) }
    }

    /// Vault's description of an auth method.
    static func describe(_ method: AuthMethod) -> JSONValue {
        [
            "type": .string(method.kind.rawValue), "description": .string(method.description), "accessor": .string(method.accessor),
            "config": ["default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false, "token_type": "default-service"],
            "options": .null, "local": false, "seal_wrap": false, "external_entropy_access": false, "uuid": .string(method.accessor),
            "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
        ]
    }

    /// `GET sys/auth`: every method keyed `path/`, in `data` and (as Vault also answers) at the top level.
    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        context.work.describe("sys.auth.list", "auth_method", "")
        var map: [String: JSONValue] = [:]
        for method in try await identity.methods(tenant: caller.tenant) { map[method.path + "/"] = Self.describe(method) }
        return VaultResponse.keyedListing(map, context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let path = try context.parameters.require("path")
        context.work.describe("sys.auth.read", "auth_method", String(Mount.trim(path).prefix(64)))
        return VaultResponse.data(Self.describe(try await identity.method(tenant: caller.tenant, path: path)), context: context)
    }

    static let enableFields: Set<String> = [
        "type", "description", "config", "options", "plugin_name", "local", "seal_wrap", "external_entropy_access", "plugin_version",
    ]

    /// `POST sys/auth/<path> {type, description?, config?}`: `userpass`, `approle`, `jwt`, `oidc` or `cert`.
    func enable(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAuth)
        let path = try context.parameters.require("path")
        context.work.describe("sys.auth.enable", "auth_method", String(Mount.trim(path).prefix(64)))
        let object = try await body.object(request, context)
        try object.admit(Self.enableFields, outcome: "nothing was enabled")
        for flag in ["local", "seal_wrap", "external_entropy_access"] where try object.bool(flag) == true {
            throw CofferError(.invalidRequest, "\(flag) is not supported by Coffer; nothing was enabled")
        }
        guard let type = try object.string("type") else { throw CofferError(.invalidRequest, "missing type") }
        if let plugin = try object.string("plugin_name"), !plugin.isEmpty, plugin != type {
            throw CofferError(.invalidRequest, "plugin_name: Coffer has no plugins; nothing was enabled")
        }
        if let options = try object.object("options"), !options.isEmpty {
            throw CofferError(.invalidRequest, "options are not supported for auth methods; nothing was enabled")
        }
        try Self.checkTune(try object.object("config") ?? [:])
        guard let kind = AuthMethod.Kind(rawValue: type), kind != .token else {
            throw CofferError(.invalidRequest, "type must be userpass, approle, jwt, oidc or cert; nothing was enabled")
        }
        _ = try await identity.enable(
            tenant: caller.tenant, path: path, kind: kind, description: try object.string("description") ?? "", in: context.work)
        return VaultResponse.noContent()
    }

    func disable(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAuth)
        try await identity.disable(tenant: caller.tenant, path: try context.parameters.require("path"), in: context.work)
        return VaultResponse.noContent()
    }

    func readTune(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let path = try context.parameters.require("path")
        context.work.describe("sys.auth.tune.read", "auth_method", String(Mount.trim(path).prefix(64)))
        let method = try await identity.method(tenant: caller.tenant, path: path)
        return VaultResponse.data(
            [
                "default_lease_ttl": .int(LoginTokenSettings.defaultTTLSeconds), "max_lease_ttl": .int(LoginTokenSettings.defaultMaxTTLSeconds),
                "force_no_cache": false, "description": .string(method.description), "token_type": "default-service",
            ], context: context)
    }

    /// `POST sys/auth/<path>/tune`: only the description changes; TTLs belong to users and roles
    /// (`token_ttl`, `token_max_ttl`), so other values are refused rather than ignored.
    func tune(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAuth)
        let path = try context.parameters.require("path")
        context.work.describe("sys.auth.tune", "auth_method", String(Mount.trim(path).prefix(64)))
        var method = try await identity.method(tenant: caller.tenant, path: path)
        guard method.kind != .token else { throw CofferError(.invalidRequest, "the token auth method cannot be tuned") }
        let object = try await body.object(request, context)
        try Self.checkTune(object.filter { $0.key != "description" })
        if let text = try object.string("description") {
            guard text.utf8.count <= 1024 else { throw CofferError(.invalidRequest, "description is at most 1024 bytes") }
            method.description = text
        }
        try await identity.saveDescription(tenant: caller.tenant, method, in: context.work)
        return VaultResponse.noContent()
    }

    static let tuneFields: Set<String> = [
        "default_lease_ttl", "max_lease_ttl", "force_no_cache", "audit_non_hmac_request_keys", "audit_non_hmac_response_keys",
        "listing_visibility", "passthrough_request_headers", "allowed_response_headers", "token_type",
    ]

    /// Vault's tune/config fields, accepted only at their defaults.
    static func checkTune(_ object: [String: JSONValue]) throws {
        try object.admit(
            [], defaultsOnly: tuneFields.reduce(into: [:]) { $0[$1] = [0, "0", "", false, "default-service", "service", "default", .array([])] },
            outcome: "nothing was changed")
    }

    /// `POST auth/<path>/sessions/revoke {username?|role?}`: revokes every session that logins through
    /// the method made — of one user, of one role, or (with neither) all of them. Admins only.
    func revokeSessions(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageAuth)
        let object = try await body.object(request, context)
        try object.admit(["username", "role", "subject"])
        let subject = try object.string("username") ?? object.string("subject")
        let count = try await identity.revokeSessions(
            tenant: caller.tenant, mount: try context.parameters.require("mount"), role: try object.string("role"), subject: subject,
            in: context.work)
        return VaultResponse.data(["revoked": .int(count)], context: context)
    }
}

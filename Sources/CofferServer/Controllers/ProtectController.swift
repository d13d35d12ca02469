import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// Protection policies (`/v1/policies/{name}`) and `POST /v1/protect/{policy}` / `POST /v1/unprotect/{policy}`.
/// Nothing of a payload appears in errors, logs or audit entries (bodies are HMAC-redacted there).
public struct ProtectController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var protector: ProtectService { runtime.protector }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/policies") { request, context in try await list(request, context) }
        router.on("/v1/policies", method: .list) { request, context in try await list(request, context) }
        router.put("/v1/policies/:name") { request, context in try await put(request, context) }
        router.post("/v1/policies/:name") { request, context in try await put(request, context) }
        router.get("/v1/policies/:name") { request, context in try await read(request, context) }
        router.delete("/v1/policies/:name") { request, context in try await delete(request, context) }
        router.post("/v1/protect/:name") { request, context in try await protect(request, context) }
        router.post("/v1/unprotect/:name") { request, context in try await unprotect(request, context) }
    }

    func name(_ context: CofferRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), TransitKey.isValidName(name) else {
            throw CofferError(.policyNotFound, "no protection policy of this name")
        }
        return name
    }

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readTransit)
        context.work.describe("policy.list", "policy", "")
        let names = try await runtime.storage.transit.policyNames(tenantID: caller.tenant.id)
        return VaultResponse.data(["keys": .array(names.map(JSONValue.string))], context: context)
    }

    func put(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .managePolicies, target: name)
        context.work.describe("policy.write", "policy", name)
        let fields = try await body.object(request, context)
        try fields.admit(["mode", "encryption_key", "signing_key", "encryption_key_version", "signing_key_version"])
        guard let modeText = try fields.string("mode"), let mode = ProtectPolicy.Mode(rawValue: modeText) else {
            throw CofferError(.invalidRequest, "mode must be sign, encrypt or sign-then-encrypt")
        }
        let policy = ProtectPolicy(
            name: name, mode: mode, encryptionKey: try fields.string("encryption_key"), signingKey: try fields.string("signing_key"),
            encryptionKeyVersion: try fields.int("encryption_key_version"), signingKeyVersion: try fields.int("signing_key_version"))
        return VaultResponse.data(Self.describe(try await protector.put(tenant: caller.tenant, policy, in: context.work)), context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .readTransit)
        context.work.describe("policy.read", "policy", name)
        return VaultResponse.data(Self.describe(try await protector.policy(tenant: caller.tenant, name: name)), context: context)
    }

    func delete(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .managePolicies, target: name)
        context.work.describe("policy.delete", "policy", name)
        try await protector.delete(tenant: caller.tenant, name: name, in: context.work)
        return VaultResponse.noContent()
    }

    func protect(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .protectPayload, target: name)
        context.work.describe("protect", "policy", name)
        let fields = try await body.object(request, context)
        try fields.admit(["payload", "payload_base64"])
        let payload: [UInt8]
        let isJSON: Bool
        if let encoded = try fields.string("payload_base64") {
            guard fields["payload"] == nil else { throw CofferError(.invalidRequest, "give either 'payload' or 'payload_base64'") }
            guard let data = Base64.decode(encoded) else { throw CofferError(.invalidRequest, "'payload_base64' must be base64") }
            payload = Array(data)
            isJSON = false
        } else if let value = fields["payload"] {
            payload = value.canonicalBytes()
            isJSON = true
        } else {
            throw CofferError(.invalidRequest, "'payload' (JSON) or 'payload_base64' is required")
        }
        let protected = try await protector.protect(tenant: caller.tenant, policyName: name, payload: payload, isJSON: isJSON)
        return VaultResponse.data(["protected": .string(protected), "policy": .string(name)], context: context)
    }

    func unprotect(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .unprotectPayload, target: name)
        context.work.describe("unprotect", "policy", name)
        let fields = try await body.object(request, context)
        try fields.admit(["protected"])
        guard let protected = try fields.string("protected") else {
            throw CofferError(.invalidRequest, "'protected' is required")
        }
        let (payload, isJSON) = try await protector.unprotect(tenant: caller.tenant, policyName: name, protected: protected)
        if isJSON, let value = JSONValue.parse(payload) {
            return VaultResponse.data(["payload": value, "policy": .string(name)], context: context)
        }
        return VaultResponse.data(["payload_base64": .string(Base64.encode(payload)), "policy": .string(name)], context: context)
    }

    static func describe(_ policy: ProtectPolicy) -> JSONValue {
        [
            "name": .string(policy.name), "mode": .string(policy.mode.rawValue),
            "encryption_key": policy.encryptionKey.map(JSONValue.string) ?? .null,
            "signing_key": policy.signingKey.map(JSONValue.string) ?? .null,
            "encryption_key_version": policy.encryptionKeyVersion.map { .int($0) } ?? .null,
            "signing_key_version": policy.signingKeyVersion.map { .int($0) } ?? .null,
            "previous_signing_keys": .array(policy.previousSigningKeys.map(JSONValue.string)),
            "previous_encryption_keys": .array(policy.previousEncryptionKeys.map(JSONValue.string)),
        ]
    }
}

import CofferCore
import HTTPTypes
import Hummingbird

extension IdentityController {
    /// Vault's read-back of an AppRole role.
    static func describe(_ role: AppRole) -> JSONValue {
        var fields = role.settings.vaultFields
        fields["bind_secret_id"] = .bool(role.bindSecretID)
        fields["secret_id_bound_cidrs"] = .array(role.secretIDBoundCIDRs.map { .string($0) })
        fields["secret_id_num_uses"] = .int(role.secretIDNumUses)
        fields["secret_id_ttl"] = .int(role.secretIDTTLSeconds)
        fields["local_secret_ids"] = false
        return .object(fields)
    }

    /// An AppRole role from a request, on top of the current one.
    static func appRole(_ object: [String: JSONValue], name: String, current: AppRole?) throws -> AppRole {
        try object.admit(
            LoginSettingsRequest.fields.union(["bind_secret_id", "secret_id_bound_cidrs", "secret_id_num_uses", "secret_id_ttl", "role_id"]),
            defaultsOnly: ["local_secret_ids": [false], "enable_local_secret_ids": [false]], outcome: "nothing was changed")
        var role = current ?? AppRole(name: name, roleID: "", settings: LoginTokenSettings(role: nil))
        try LoginSettingsRequest.apply(object, to: &role.settings)
        if let bind = try object.bool("bind_secret_id") { role.bindSecretID = bind }
        if let cidrs = try LoginSettingsRequest.names(object, "secret_id_bound_cidrs") {
            if let bad = cidrs.first(where: { CIDR($0) == nil }) {
                throw CofferError(.invalidRequest, "secret_id_bound_cidrs: '\(bad.prefix(64))' is not a CIDR network; nothing was changed")
            }
            role.secretIDBoundCIDRs = cidrs.compactMap { CIDR($0)?.description }
        }
        if let uses = try object.int("secret_id_num_uses") {
            guard (0...Int(Int32.max)).contains(uses) else { throw CofferError(.invalidRequest, "secret_id_num_uses must be 0 or more") }
            role.secretIDNumUses = Int64(uses)
        }
        if let ttl = try object.duration("secret_id_ttl") {
            guard ttl <= TokenService.maximumSeconds else { throw CofferError(.invalidRequest, "secret_id_ttl is at most 10 years") }
            role.secretIDTTLSeconds = ttl
        }
        if let roleID = try object.string("role_id") { role.roleID = roleID }
        return role
    }

    func readRoleID(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle])
        let name = try context.parameters.require("name")
        context.work.describe("auth.approle.role_id.read", "auth_role", "\(method.path)/\(name.prefix(128))")
        let role = try await identity.appRole(tenant: caller.tenant, method: method, name: name)
        return VaultResponse.data(["role_id": .string(role.roleID)], context: context)
    }

    func writeRoleID(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle])
        let object = try await body.object(request, context)
        try object.admit(["role_id"])
        guard let roleID = try object.string("role_id") else { throw CofferError(.invalidRequest, "role_id is required") }
        try await identity.setRoleID(
            tenant: caller.tenant, method: method, name: try context.parameters.require("name"), roleID: roleID, in: context.work)
        return VaultResponse.noContent()
    }

    /// `POST role/<name>/secret-id {metadata?, cidr_list?, token_bound_cidrs?}`; `metadata` is a JSON
    /// object given as a string (as Vault and hvac send it) or as an object.
    func generateSecretID(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle])
        let object = try await body.object(request, context)
        try object.admit(["metadata", "cidr_list", "token_bound_cidrs"], defaultsOnly: ["ttl": [0, ""], "num_uses": [0]])
        var metadata: [String: String] = [:]
        if let text = try? object.string("metadata") {
            if !text.isEmpty {
                guard let parsed = JSONValue.parse(Array(text.utf8))?.objectValue, parsed.values.allSatisfy({ $0.stringValue != nil }) else {
                    throw CofferError(.invalidRequest, "metadata must be a JSON object of strings")
                }
                metadata = parsed.compactMapValues(\.stringValue)
            }
        } else {
            metadata = try object.stringMap("metadata") ?? [:]
        }
        let (secretID, record) = try await identity.generateSecretID(
            tenant: caller.tenant, method: method, roleName: try context.parameters.require("name"),
            cidrs: try LoginSettingsRequest.names(object, "cidr_list") ?? [],
            tokenCIDRs: try LoginSettingsRequest.names(object, "token_bound_cidrs") ?? [],
            metadata: metadata, in: context.work)
        let ttl = record.expiresAt.map { ($0 - record.createdAt) / 1000 } ?? 0
        return VaultResponse.data(
            [
                "secret_id": .string(secretID), "secret_id_accessor": .string(record.accessor), "secret_id_ttl": .int(ttl),
                "secret_id_num_uses": .int(record.usesLeft),
            ], context: context)
    }

    func listSecretIDs(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, method) = try await admin(request, context, kinds: [.approle])
        let name = try context.parameters.require("name")
        context.work.describe("auth.approle.secret_id.list", "auth_role", "\(method.path)/\(name.prefix(128))")
        let accessors = try await identity.secretIDAccessors(tenant: caller.tenant, method: method, roleName: name)
        guard !accessors.isEmpty else { throw CofferError(.notFound, "no secret IDs") }
        return VaultResponse.data(["keys": .array(accessors.map { .string($0) })], context: context)
    }

    /// The secret ID a lookup or destroy names by `field` (`secret_id` or `secret_id_accessor`).
    func secretIDTarget(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> (Caller, AuthMethod, SecretIDRecord?) {
        let (caller, method) = try await admin(request, context, kinds: [.approle])
        let name = try context.parameters.require("name")
        context.work.describe("auth.approle.secret_id.lookup", "auth_role", "\(method.path)/\(name.prefix(128))")
        let object = try await body.object(request, context, recording: field == "secret_id_accessor")
        try object.admit([field])
        guard let value = try object.string(field) else { throw CofferError(.invalidRequest, "\(field) is required") }
        let record =
            field == "secret_id"
            ? try await identity.lookupSecretID(tenant: caller.tenant, method: method, roleName: name, secretID: value)
            : try await identity.lookupSecretID(tenant: caller.tenant, method: method, roleName: name, accessor: value)
        return (caller, method, record)
    }

    /// `secret-id/lookup` and `secret-id-accessor/lookup`: the secret ID's properties (never itself);
    /// 404 when the role has no such secret ID.
    func lookupSecretID(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> Response {
        let (_, _, record) = try await secretIDTarget(request, context, by: field)
        guard let record else { throw CofferError(.notFound, "no such secret ID for this role") }
        return VaultResponse.data(
            [
                "secret_id_accessor": .string(record.accessor), "secret_id_num_uses": .int(record.usesLeft),
                "secret_id_ttl": .int(record.expiresAt.map { ($0 - record.createdAt) / 1000 } ?? 0),
                "creation_time": .string(Timestamp.rfc3339(record.createdAt)),
                "expiration_time": .string(record.expiresAt.map(Timestamp.rfc3339) ?? "0001-01-01T00:00:00Z"),
                "cidr_list": .array(record.boundCIDRs.map { .string($0) }), "token_bound_cidrs": .array(record.tokenBoundCIDRs.map { .string($0) }),
                "metadata": .object(record.metadata.mapValues { .string($0) }),
            ], context: context)
    }

    func destroySecretID(_ request: Request, _ context: CofferRequestContext, by field: String) async throws -> Response {
        let (caller, method, record) = try await secretIDTarget(request, context, by: field)
        try await identity.destroySecretID(tenant: caller.tenant, method: method, record: record, in: context.work)
        return VaultResponse.noContent()
    }
}

import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// KV v2 secrets under `/v1/<mount>/` for every KV mount of the tenant, speaking Vault's API (data,
/// delete, undelete, destroy, metadata, LIST, config). Scope targets are `<mount>/<path>`.
public struct KVController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var secrets: SecretService { runtime.secrets }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes. Coffer's own `/v1/<word>/` routes are matched first; any other first
    /// segment is a mount, resolved per tenant (`ROUTE_NOT_FOUND` when no KV engine is mounted there).
    public func addRoutes(to router: Router<CofferRequestContext>) {
        let base = "/v1/:mount"
        router.get("\(base)/data/**") { request, context in try await read(request, context) }
        router.post("\(base)/data/**") { request, context in try await write(request, context) }
        router.put("\(base)/data/**") { request, context in try await write(request, context) }
        router.patch("\(base)/data/**") { request, context in try await patch(request, context) }
        router.delete("\(base)/data/**") { request, context in try await deleteLatest(request, context) }
        for verb in ["delete", "undelete", "destroy"] {
            router.post("\(base)/\(verb)/**") { request, context in try await versions(verb, request, context) }
            router.put("\(base)/\(verb)/**") { request, context in try await versions(verb, request, context) }
        }
        router.get("\(base)/metadata") { request, context in try await list(request, context, folder: "") }
        router.on("\(base)/metadata", method: .list) { request, context in try await list(request, context, folder: "") }
        router.get("\(base)/metadata/**") { request, context in
            if request.uri.queryParameters.get("list") == "true" {
                return try await list(request, context, folder: Self.path(context))
            }
            return try await readMetadata(request, context)
        }
        router.on("\(base)/metadata/**", method: .list) { request, context in try await list(request, context, folder: Self.path(context)) }
        router.post("\(base)/metadata/**") { request, context in try await writeMetadata(request, context) }
        router.put("\(base)/metadata/**") { request, context in try await writeMetadata(request, context) }
        router.patch("\(base)/metadata/**") { request, context in try await writeMetadata(request, context) }
        router.delete("\(base)/metadata/**") { request, context in try await deleteMetadata(request, context) }
        router.get("\(base)/config") { request, context in try await readConfig(request, context) }
        router.post("\(base)/config") { request, context in try await writeConfig(request, context) }
        router.put("\(base)/config") { request, context in try await writeConfig(request, context) }
    }

    /// The scope target of a path in a mount: `<mount>/<normalised path>` (so `a//b/` and `a/b` are the
    /// same target, and a scope for one mount never reaches another).
    static func target(_ mount: String, _ path: String) -> String {
        if path.isEmpty { return mount + "/" }
        return mount + "/" + ((try? SecretService.normalize(path)) ?? path)
    }

    static func path(_ context: CofferRequestContext) -> String {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        return raw.removingPercentEncoding ?? raw
    }

    /// The start of every KV route: the caller authorised for `action` on `<mount>/<path>`, the mount
    /// (a KV mount of the caller's tenant, else `ROUTE_NOT_FOUND`), and the audit description.
    func begin(
        _ request: Request, _ context: CofferRequestContext, _ action: Role.Action, _ operation: String, path: String,
        details: [String: String] = [:]
    ) async throws -> (Caller, Mount) {
        let name = Mount.trim(context.parameters.get("mount") ?? "")
        let caller = try await auth.authorize(request, context, action, target: Self.target(name, path))
        context.work.describe(operation, "kv", "\(name)/\(path)", details)
        return (caller, try await runtime.mounts.kvMount(tenant: caller.tenant, path: name))
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .readSecrets, "kv.read", path: path, details: ["algorithm": "aes-256-gcm"])
        var version: Int?
        if let text = request.uri.queryParameters.get("version") {
            guard let number = Int(text), number >= 0 else { throw CofferError(.invalidRequest, "version must be a non-negative integer") }
            version = number
        }
        let result = try await secrets.read(tenant: caller.tenant, mount: mount.path, path: path, version: version, config: mount.kv)
        let metadata = Self.versionMetadata(result.version, custom: result.metadata.customMetadata)
        guard let data = result.data else {
            // Vault answers a deleted or destroyed version with 404 and its metadata.
            return VaultResponse.data(["data": nil, "metadata": metadata], context: context, status: .notFound)
        }
        return VaultResponse.data(["data": .object(data), "metadata": metadata], context: context)
    }

    func write(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.write", path: path, details: ["algorithm": "aes-256-gcm"])
        let object = try await body.object(request, context)
        try object.admit(["data", "options"])
        guard let data = object["data"]?.objectValue else {
            throw CofferError(.invalidRequest, "no data provided: the body must be {\"data\": {...}}")
        }
        let options = try object.object("options") ?? [:]
        try options.admit(["cas"])
        let cas = try options.int("cas")
        let (_, version) = try await secrets.write(
            tenant: caller.tenant, mount: mount.path, path: path, data: data, cas: cas, config: mount.kv, in: context.work)
        return VaultResponse.data(Self.versionMetadata(version, custom: nil), context: context)
    }

    func patch(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.patch", path: path, details: ["algorithm": "aes-256-gcm"])
        let object = try await body.object(request, context)
        try object.admit(["data", "options"])
        guard let changes = object["data"]?.objectValue else {
            throw CofferError(.invalidRequest, "no data provided: the body must be {\"data\": {...}}")
        }
        let options = try object.object("options") ?? [:]
        try options.admit(["cas"])
        let cas = try options.int("cas")
        let (_, version) = try await secrets.patch(
            tenant: caller.tenant, mount: mount.path, path: path, changes: changes, cas: cas, config: mount.kv, in: context.work)
        return VaultResponse.data(Self.versionMetadata(version, custom: nil), context: context)
    }

    func deleteLatest(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.delete", path: path)
        try await secrets.deleteLatest(tenant: caller.tenant, mount: mount.path, path: path, in: context.work)
        return VaultResponse.noContent()
    }

    func versions(_ verb: String, _ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.\(verb)", path: path)
        let object = try await body.object(request, context)
        try object.admit(["versions"])
        let versions = try object.intList("versions")
        guard !versions.isEmpty else { throw CofferError(.invalidRequest, "no versions provided") }
        switch verb {
        case "destroy": try await secrets.destroy(tenant: caller.tenant, mount: mount.path, path: path, versions: versions, in: context.work)
        default:
            try await secrets.setDeleted(
                tenant: caller.tenant, mount: mount.path, path: path, versions: versions, undelete: verb == "undelete", in: context.work)
        }
        return VaultResponse.noContent()
    }

    func list(_ request: Request, _ context: CofferRequestContext, folder: String) async throws -> Response {
        let name = Mount.trim(context.parameters.get("mount") ?? "")
        let target = folder.isEmpty ? name + "/" : Self.target(name, folder) + "/"
        let caller = try await auth.authorize(request, context, .readSecrets, target: target)
        context.work.describe("kv.list", "kv", "\(name)/\(folder)")
        let mount = try await runtime.mounts.kvMount(tenant: caller.tenant, path: name)
        let keys = try await secrets.list(tenant: caller.tenant, mount: mount.path, folder: folder)
        return VaultResponse.data(["keys": .strings(keys)], context: context)
    }

    func readMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .readSecrets, "kv.metadata.read", path: path)
        let (metadata, versions) = try await secrets.metadata(tenant: caller.tenant, mount: mount.path, path: path, config: mount.kv)
        var versionMap: [String: JSONValue] = [:]
        for version in versions {
            versionMap[String(version.version)] = [
                "created_time": .string(Timestamp.rfc3339(version.createdAt)),
                "deletion_time": .string(version.deletedAt.map(Timestamp.rfc3339) ?? ""),
                "destroyed": .bool(version.destroyed),
                "env_references": .strings(version.references.keys.sorted()),
            ]
        }
        return VaultResponse.data(
            [
                "cas_required": .bool(metadata.casRequired), "created_time": .string(Timestamp.rfc3339(metadata.createdAt)),
                "current_version": .int(metadata.currentVersion), "custom_metadata": Self.custom(metadata.customMetadata),
                "delete_version_after": .string(Timestamp.goDuration(metadata.deleteVersionAfterSeconds)), "max_versions": .int(metadata.maxVersions),
                "oldest_version": .int(metadata.oldestVersion), "updated_time": .string(Timestamp.rfc3339(metadata.updatedAt)),
                "versions": .object(versionMap),
            ], context: context)
    }

    func writeMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.metadata.write", path: path)
        let object = try await body.object(request, context)
        try object.admit(["max_versions", "cas_required", "delete_version_after", "custom_metadata"])
        var custom: [String: String]?
        if let value = object["custom_metadata"], value != .null {
            guard let members = value.objectValue else { throw CofferError(.invalidRequest, "'custom_metadata' must be an object of strings") }
            var strings: [String: String] = [:]
            for (key, member) in members {
                guard let text = member.stringValue else { throw CofferError(.invalidRequest, "'custom_metadata' values must be strings") }
                strings[key] = text
            }
            custom = strings
        }
        let update = SecretMetadataUpdate(
            maxVersions: try object.int("max_versions"), casRequired: try object.bool("cas_required"),
            deleteVersionAfterSeconds: try object.duration("delete_version_after"), customMetadata: custom)
        _ = try await secrets.updateMetadata(tenant: caller.tenant, mount: mount.path, path: path, update, in: context.work)
        return VaultResponse.noContent()
    }

    func deleteMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let (caller, mount) = try await begin(request, context, .writeSecrets, "kv.metadata.delete", path: path)
        try await secrets.deleteAll(tenant: caller.tenant, mount: mount.path, path: path, in: context.work)
        return VaultResponse.noContent()
    }

    /// `GET <mount>/config`: the mount's `max_versions`, `cas_required`, `delete_version_after`.
    func readConfig(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (_, mount) = try await begin(request, context, .readSecrets, "kv.config.read", path: "")
        return VaultResponse.data(
            [
                "max_versions": .int(mount.kv.maxVersions), "cas_required": .bool(mount.kv.casRequired),
                "delete_version_after": .string(Timestamp.goDuration(mount.kv.deleteVersionAfterSeconds)),
            ], context: context)
    }

    /// `POST <mount>/config {max_versions?, cas_required?, delete_version_after?}` (mount managers only).
    func writeConfig(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, current) = try await begin(request, context, .manageMounts, "kv.config.write", path: "")
        let object = try await body.object(request, context)
        try object.admit(["max_versions", "cas_required", "delete_version_after"], outcome: "the configuration was not changed")
        var mount = current
        if let versions = try object.int("max_versions") {
            guard (0...1000).contains(versions) else { throw CofferError(.invalidRequest, "max_versions must be between 0 and 1000") }
            mount.kv.maxVersions = versions
        }
        if let required = try object.bool("cas_required") { mount.kv.casRequired = required }
        if let after = try object.duration("delete_version_after") { mount.kv.deleteVersionAfterSeconds = after }
        context.work.addDetails([
            "max_versions": String(mount.kv.maxVersions), "cas_required": String(mount.kv.casRequired),
            "delete_version_after": String(mount.kv.deleteVersionAfterSeconds),
        ])
        try await runtime.mounts.save(tenant: caller.tenant, mount, in: context.work)
        return VaultResponse.noContent()
    }

    static func versionMetadata(_ version: SecretVersion, custom: [String: String]?) -> JSONValue {
        var object: [String: JSONValue] = [
            "created_time": .string(Timestamp.rfc3339(version.createdAt)),
            "custom_metadata": custom.map(Self.custom) ?? .null,
            "deletion_time": .string(version.deletedAt.map(Timestamp.rfc3339) ?? ""),
            "destroyed": .bool(version.destroyed),
            "version": .int(version.version),
        ]
        if !version.references.isEmpty { object["env_references"] = .strings(version.references.keys.sorted()) }
        return .object(object)
    }

    static func custom(_ values: [String: String]) -> JSONValue { values.isEmpty ? .null : .stringMap(values) }
}

extension HTTPRequest.Method {
    /// Vault's `LIST` verb.
    public static let list = HTTPRequest.Method("LIST") ?? .get
}

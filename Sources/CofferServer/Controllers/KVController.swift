import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// KV v2 secrets under `/v1/<mount>/`, speaking Vault's API (data, delete, undelete, destroy, metadata, LIST).
public struct KVController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var mount: String { runtime.configuration.kvMount }
    var auth: Authenticator { runtime.authenticator }
    var secrets: SecretService { runtime.secrets }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        let base = "/v1/\(mount)"
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
        router.get("\(base)/config") { request, context in
            _ = try await auth.authorize(request, context, .readSecrets)
            return VaultResponse.data(
                ["max_versions": .int(runtime.configuration.defaultMaxVersions), "cas_required": false, "delete_version_after": "0s"],
                context: context)
        }
    }

    /// The path an API key's `kv:` scope is matched against: normalised, so `a//b/` and `a/b` are the same target.
    static func target(_ path: String) -> String? {
        if path.isEmpty { return "" }
        return (try? SecretService.normalize(path)) ?? path
    }

    static func path(_ context: CofferRequestContext) -> String {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        return raw.removingPercentEncoding ?? raw
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .readSecrets, target: Self.target(path))
        context.work.describe("kv.read", "kv", "\(mount)/\(path)", ["algorithm": "aes-256-gcm"])
        var version: Int?
        if let text = request.uri.queryParameters.get("version") {
            guard let number = Int(text), number >= 0 else { throw CofferError(.invalidRequest, "version must be a non-negative integer") }
            version = number
        }
        let result = try await secrets.read(tenant: caller.tenant, mount: mount, path: path, version: version)
        let metadata = Self.versionMetadata(result.version, custom: result.metadata.customMetadata)
        guard let data = result.data else {
            // Vault answers a deleted or destroyed version with 404 and its metadata.
            return VaultResponse.data(["data": nil, "metadata": metadata], context: context, status: .notFound)
        }
        return VaultResponse.data(["data": .object(data), "metadata": metadata], context: context)
    }

    func write(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.write", "kv", "\(mount)/\(path)", ["algorithm": "aes-256-gcm"])
        let object = try await body.object(request, context)
        guard let data = object["data"]?.objectValue else {
            throw CofferError(.invalidRequest, "no data provided: the body must be {\"data\": {...}}")
        }
        let options = object["options"]?.objectValue ?? [:]
        let cas = try options.int("cas")
        let (_, version) = try await secrets.write(tenant: caller.tenant, mount: mount, path: path, data: data, cas: cas, in: context.work)
        return VaultResponse.data(Self.versionMetadata(version, custom: nil), context: context)
    }

    func patch(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.patch", "kv", "\(mount)/\(path)", ["algorithm": "aes-256-gcm"])
        let object = try await body.object(request, context)
        guard let changes = object["data"]?.objectValue else {
            throw CofferError(.invalidRequest, "no data provided: the body must be {\"data\": {...}}")
        }
        let cas = try (object["options"]?.objectValue ?? [:]).int("cas")
        let (_, version) = try await secrets.patch(tenant: caller.tenant, mount: mount, path: path, changes: changes, cas: cas, in: context.work)
        return VaultResponse.data(Self.versionMetadata(version, custom: nil), context: context)
    }

    func deleteLatest(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.delete", "kv", "\(mount)/\(path)")
        try await secrets.deleteLatest(tenant: caller.tenant, mount: mount, path: path, in: context.work)
        return VaultResponse.noContent()
    }

    func versions(_ verb: String, _ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.\(verb)", "kv", "\(mount)/\(path)")
        let versions = try await body.object(request, context).intList("versions")
        guard !versions.isEmpty else { throw CofferError(.invalidRequest, "no versions provided") }
        switch verb {
        case "destroy": try await secrets.destroy(tenant: caller.tenant, mount: mount, path: path, versions: versions, in: context.work)
        default:
            try await secrets.setDeleted(
                tenant: caller.tenant, mount: mount, path: path, versions: versions, undelete: verb == "undelete", in: context.work)
        }
        return VaultResponse.noContent()
    }

    func list(_ request: Request, _ context: CofferRequestContext, folder: String) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readSecrets, target: Self.target(folder).map { $0.isEmpty ? "" : $0 + "/" })
        context.work.describe("kv.list", "kv", "\(mount)/\(folder)")
        let keys = try await secrets.list(tenant: caller.tenant, mount: mount, folder: folder)
        return VaultResponse.data(["keys": .strings(keys)], context: context)
    }

    func readMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .readSecrets, target: Self.target(path))
        context.work.describe("kv.metadata.read", "kv", "\(mount)/\(path)")
        let (metadata, versions) = try await secrets.metadata(tenant: caller.tenant, mount: mount, path: path)
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
                "delete_version_after": .string("\(metadata.deleteVersionAfterSeconds)s"), "max_versions": .int(metadata.maxVersions),
                "oldest_version": .int(metadata.oldestVersion), "updated_time": .string(Timestamp.rfc3339(metadata.updatedAt)),
                "versions": .object(versionMap),
            ], context: context)
    }

    func writeMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.metadata.write", "kv", "\(mount)/\(path)")
        let object = try await body.object(request, context)
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
        _ = try await secrets.updateMetadata(tenant: caller.tenant, mount: mount, path: path, update, in: context.work)
        return VaultResponse.noContent()
    }

    func deleteMetadata(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let path = Self.path(context)
        let caller = try await auth.authorize(request, context, .writeSecrets, target: Self.target(path))
        context.work.describe("kv.metadata.delete", "kv", "\(mount)/\(path)")
        try await secrets.deleteAll(tenant: caller.tenant, mount: mount, path: path, in: context.work)
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

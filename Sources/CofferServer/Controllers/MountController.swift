import CofferCore
import HTTPTypes
import Hummingbird

/// Vault's `sys/mounts` API: list, read, enable (KV v2 or transit at any free path), tune and disable, plus
/// `sys/mounts-all/<path>` and `sys/internal/ui/mounts[/<path>]`, which the `vault` CLI asks before
/// `vault kv get` to learn a mount's KV version.
public struct MountController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var mounts: MountService { runtime.mounts }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: 64 * 1024)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/sys/mounts") { request, context in try await list(request, context) }
        router.get("/v1/sys/mounts/:path") { request, context in try await read(request, context) }
        router.get("/v1/sys/mounts-all/:path") { request, context in try await read(request, context) }
        router.post("/v1/sys/mounts/:path") { request, context in try await enable(request, context) }
        router.put("/v1/sys/mounts/:path") { request, context in try await enable(request, context) }
        router.delete("/v1/sys/mounts/:path") { request, context in try await disable(request, context) }
        router.get("/v1/sys/mounts/:path/tune") { request, context in try await readTune(request, context) }
        router.post("/v1/sys/mounts/:path/tune") { request, context in try await tune(request, context) }
        router.put("/v1/sys/mounts/:path/tune") { request, context in try await tune(request, context) }
        router.get("/v1/sys/internal/ui/mounts") { request, context in try await list(request, context) }
        router.get("/v1/sys/internal/ui/mounts/**") { request, context in try await uiMount(request, context) }
    }

    /// Vault's description of a mount.
    static func describe(_ mount: Mount) -> JSONValue {
        [
            "type": .string(mount.kind.rawValue), "description": .string(mount.description), "accessor": .string(mount.accessor),
            "config": [
                "default_lease_ttl": .int(mount.defaultLeaseTTL), "max_lease_ttl": .int(mount.maxLeaseTTL), "force_no_cache": false,
            ],
            "options": mount.kind == .kv ? ["version": "2"] : .null, "local": false, "seal_wrap": false, "external_entropy_access": false,
            "uuid": .string(mount.accessor), "plugin_version": "", "running_plugin_version": "", "running_sha256": "",
        ]
    }

    /// `GET sys/mounts`: every mount, keyed `path/`, in `data` and (as Vault also answers) at the top level.
    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        context.work.describe("sys.mounts.list", "mount", "")
        var map: [String: JSONValue] = [:]
        for mount in try await mounts.list(tenant: caller.tenant) { map[mount.path + "/"] = Self.describe(mount) }
        if request.uri.path.hasPrefix("/v1/sys/internal/ui/mounts") {
            return VaultResponse.data(
                ["secret": .object(map), "auth": ["token/": ["type": "token", "description": "token based credentials"]]], context: context)
        }
        return VaultResponse.keyedListing(map, context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let path = try context.parameters.require("path")
        context.work.describe("sys.mounts.read", "mount", Mount.trim(path))
        return VaultResponse.data(Self.describe(try await mounts.mount(tenant: caller.tenant, path: path)), context: context)
    }

    /// `sys/internal/ui/mounts/<path>`: the mount `<path>` lives under, with its `path`.
    func uiMount(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let first = context.parameters.getCatchAll().first.map(String.init) ?? ""
        context.work.describe("sys.mounts.read", "mount", first)
        let mount = try await mounts.mount(tenant: caller.tenant, path: first)
        guard case .object(var fields) = Self.describe(mount) else { throw CofferError(.internalError, "mount description") }
        fields["path"] = .string(mount.path + "/")
        return VaultResponse.data(.object(fields), context: context)
    }

    static let enableFields: Set<String> = [
        "type", "description", "config", "options", "plugin_name", "local", "seal_wrap", "external_entropy_access", "plugin_version",
    ]

    /// `POST sys/mounts/<path> {type, description?, config?, options?}`: a KV v2 or transit mount.
    func enable(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageMounts)
        let path = try context.parameters.require("path")
        context.work.describe("sys.mounts.enable", "mount", Mount.trim(path))
        let object = try await body.object(request, context)
        try object.admit(Self.enableFields, outcome: "nothing was mounted")
        for flag in ["local", "seal_wrap", "external_entropy_access"] where try object.bool(flag) == true {
            throw CofferError(.invalidRequest, "\(flag) is not supported by Coffer; nothing was mounted")
        }
        guard let type = try object.string("type") else { throw CofferError(.invalidRequest, "missing type") }
        if let plugin = try object.string("plugin_name"), !plugin.isEmpty, plugin != type {
            throw CofferError(.invalidRequest, "plugin_name: Coffer has no plugins; nothing was mounted")
        }
        let options = try object.object("options") ?? [:]
        if let unknown = options.keys.sorted().first(where: { $0 != "version" }) {
            throw CofferError(.invalidRequest, "options.\(unknown) is not supported; nothing was mounted")
        }
        let version = options["version"].flatMap { $0.stringValue ?? $0.intValue.map(String.init) }
        switch type {
        case "kv-v2": guard version == nil || version == "2" else { throw CofferError(.invalidRequest, "kv-v2 takes options.version 2") }
        case "kv":
            guard version == "2" else {
                throw CofferError(.invalidRequest, "KV version 1 is not supported: give options.version 2 (or type kv-v2); nothing was mounted")
            }
        case "transit": guard options.isEmpty else { throw CofferError(.invalidRequest, "transit takes no options; nothing was mounted") }
        default: throw CofferError(.invalidRequest, "type must be kv (options.version 2), kv-v2 or transit; nothing was mounted")
        }
        let kind: Mount.Kind = type == "transit" ? .transit : .kv
        var mount = Mount(path: path, kind: kind, description: try object.string("description") ?? "", accessor: "", createdAt: 0)
        try Self.applyTune(try object.object("config") ?? [:], to: &mount, description: false)
        _ = try await mounts.enable(tenant: caller.tenant, mount, in: context.work)
        return VaultResponse.noContent()
    }

    func disable(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageMounts)
        // The transit keys of the mount are gone from storage; none may live on in the key cache.
        defer { runtime.transit.forgetKeys() }
        try await mounts.disable(tenant: caller.tenant, path: try context.parameters.require("path"), in: context.work)
        return VaultResponse.noContent()
    }

    func readTune(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authenticate(request, context)
        let path = try context.parameters.require("path")
        context.work.describe("sys.mounts.tune.read", "mount", Mount.trim(path))
        let mount = try await mounts.mount(tenant: caller.tenant, path: path)
        return VaultResponse.data(
            [
                "default_lease_ttl": .int(mount.defaultLeaseTTL), "max_lease_ttl": .int(mount.maxLeaseTTL), "force_no_cache": false,
                "description": .string(mount.description), "options": mount.kind == .kv ? ["version": "2"] : .null,
            ], context: context)
    }

    /// `POST sys/mounts/<path>/tune`: description and lease TTLs (reported; KV v2 and transit issue no leases).
    func tune(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .manageMounts)
        let path = try context.parameters.require("path")
        context.work.describe("sys.mounts.tune", "mount", Mount.trim(path))
        var mount = try await mounts.mount(tenant: caller.tenant, path: path)
        let object = try await body.object(request, context)
        try Self.applyTune(object, to: &mount, description: true)
        try await mounts.save(tenant: caller.tenant, mount, in: context.work)
        return VaultResponse.noContent()
    }

    static let tuneFields: Set<String> = [
        "default_lease_ttl", "max_lease_ttl", "description", "force_no_cache", "options", "audit_non_hmac_request_keys",
        "audit_non_hmac_response_keys", "listing_visibility", "passthrough_request_headers", "allowed_response_headers",
    ]

    /// Applies Vault's tune/config fields: lease TTLs and description are kept; the rest are accepted
    /// only at their defaults (Coffer HMACs every audited field, shows every mount, passes no headers).
    static func applyTune(_ object: [String: JSONValue], to mount: inout Mount, description: Bool) throws {
        let allowed = description ? tuneFields : tuneFields.subtracting(["description", "options"])
        try object.admit(allowed, outcome: "nothing was changed")
        for key in ["audit_non_hmac_request_keys", "audit_non_hmac_response_keys", "passthrough_request_headers", "allowed_response_headers"] {
            if let list = try object.stringList(key), !list.isEmpty {
                throw CofferError(.invalidRequest, "\(key) is not supported by Coffer; nothing was changed")
            }
        }
        if try object.bool("force_no_cache") == true { throw CofferError(.invalidRequest, "force_no_cache is not supported; nothing was changed") }
        if let visibility = try object.string("listing_visibility"), !["", "hidden"].contains(visibility) {
            throw CofferError(.invalidRequest, "listing_visibility: only hidden is supported; nothing was changed")
        }
        if let options = try object.object("options"), let version = options["version"], version.stringValue != "2", version.intValue != 2 {
            throw CofferError(.invalidRequest, "options.version: only KV version 2 is supported; nothing was changed")
        }
        if let ttl = try object.duration("default_lease_ttl") { mount.defaultLeaseTTL = ttl }
        if let ttl = try object.duration("max_lease_ttl") { mount.maxLeaseTTL = ttl }
        if description, let text = try object.string("description") {
            guard text.utf8.count <= 1024 else { throw CofferError(.invalidRequest, "description is at most 1024 bytes") }
            mount.description = text
        }
    }
}

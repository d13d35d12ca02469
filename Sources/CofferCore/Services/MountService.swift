/// A tenant's secrets-engine mounts: the built-in KV v2 mount (the configured `kv_mount`, `secret/` by
/// default) and `transit/`, which always exist, and any number of KV v2 mounts enabled at free paths.
/// Disabling a mount removes every secret under it, in the same transaction as its audit entry.
public struct MountService: Sendable {
    private let store: any MountStore
    private let clock: any CofferClock
    /// The built-in KV mount's path.
    public let defaultKVPath: String

    /// Creates the service.
    public init(store: any MountStore, clock: any CofferClock, defaultKVPath: String) {
        self.store = store
        self.clock = clock
        self.defaultKVPath = defaultKVPath
    }

    /// The built-in mount at `path`, as it is before any tuning.
    func builtIn(_ path: String) -> Mount? {
        switch path {
        case defaultKVPath: Mount(path: path, kind: .kv, description: "key/value secret storage", accessor: "kv_builtin", createdAt: 0)
        case Mount.transitPath: Mount(path: path, kind: .transit, description: "transit encryption", accessor: "transit_builtin", createdAt: 0)
        default: nil
        }
    }

    /// Every mount of the tenant, by path (built-ins included).
    public func list(tenant: Tenant) async throws -> [Mount] {
        var byPath: [String: Mount] = [:]
        for path in [defaultKVPath, Mount.transitPath] { byPath[path] = builtIn(path) }
        for mount in try await store.mounts(tenantID: tenant.id) { byPath[mount.path] = mount }
        return byPath.keys.sorted().compactMap { byPath[$0] }
    }

    /// The mount at `path` (slashes trimmed), or `NOT_FOUND`.
    public func mount(tenant: Tenant, path raw: String) async throws -> Mount {
        let path = Mount.trim(raw)
        if let stored = try await store.mount(tenantID: tenant.id, path: path) { return stored }
        guard let builtIn = builtIn(path) else { throw CofferError(.notFound, "no secrets engine is mounted at this path") }
        return builtIn
    }

    /// The KV mount at `path`; `ROUTE_NOT_FOUND` (Vault's 404 for an unmounted path) otherwise.
    public func kvMount(tenant: Tenant, path: String) async throws -> Mount { try await mount(tenant: tenant, path: path, kind: .kv) }

    /// The transit mount at `path`; `ROUTE_NOT_FOUND` otherwise.
    public func transitMount(tenant: Tenant, path: String) async throws -> Mount {
        try await mount(tenant: tenant, path: path, kind: .transit)
    }

    /// The mount of `kind` at `path`; the built-in mounts answer without a database read until changed.
    func mount(tenant: Tenant, path: String, kind: Mount.Kind) async throws -> Mount {
        let mount: Mount
        do {
            mount = try await self.mount(tenant: tenant, path: path)
        } catch let error as CofferError where error.code == .notFound {
            throw CofferError(.routeNotFound, "unsupported path: no \(kind.rawValue) secrets engine is mounted here")
        }
        guard mount.kind == kind else { throw CofferError(.routeNotFound, "unsupported path: the secrets engine here is not \(kind.rawValue)") }
        return mount
    }

    /// Enables a KV v2 mount at a free `path`.
    public func enable(tenant: Tenant, _ mount: Mount, in work: UnitOfWork) async throws -> Mount {
        var mount = mount
        mount.path = Mount.trim(mount.path)
        guard Mount.isValidPath(mount.path) else {
            throw CofferError(
                .invalidRequest, "a mount path is one segment of 1-64 lowercase letters, digits, '-' or '_', and not a reserved name")
        }
        work.describe("sys.mounts.enable", "mount", mount.path, ["type": mount.kind.rawValue])
        guard builtIn(mount.path) == nil else { throw CofferError(.invalidRequest, "path is already in use at \(mount.path)/") }
        mount.accessor = mount.kind.rawValue + "_" + AccessToken.generateAccessor().prefix(8).lowercased()
        mount.createdAt = clock.nowMillis
        guard try await store.insertMount(tenantID: tenant.id, mount, in: work) else {
            throw CofferError(.invalidRequest, "path is already in use at \(mount.path)/")
        }
        return mount
    }

    /// Saves a changed mount (tuning or KV config), creating the row of a built-in mount on first change.
    public func save(tenant: Tenant, _ mount: Mount, in work: UnitOfWork) async throws {
        try await store.saveMount(tenantID: tenant.id, mount, in: work)
    }

    /// Disables a mount and removes every secret under it. Built-in mounts cannot be disabled. As in
    /// Vault, disabling a path where nothing is mounted succeeds and changes nothing (the audit entry
    /// says `existed: false`).
    public func disable(tenant: Tenant, path raw: String, in work: UnitOfWork) async throws {
        let path = Mount.trim(raw)
        work.describe("sys.mounts.disable", "mount", path)
        if builtIn(path) != nil { throw CofferError(.invalidRequest, "the built-in mounts (\(defaultKVPath)/, transit/) cannot be disabled") }
        guard Mount.isValidPath(path), try await store.mount(tenantID: tenant.id, path: path) != nil else {
            work.addDetails(["existed": "false"])
            return
        }
        // Named before the write, so the entry committed with the deletion says what it removed.
        work.addDetails(["existed": "true", "secrets_removed": String(try await store.secretCount(tenantID: tenant.id, path: path))])
        _ = try await store.deleteMount(tenantID: tenant.id, path: path, in: work)
    }
}

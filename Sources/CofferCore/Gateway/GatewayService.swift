import Foundation
import Synchronization

/// Gateway projects and the rules of a proxied call: which route, which parameters, which headers,
/// which credential. The network work (resolving, connecting, streaming) is the server's.
public final class GatewayService: Sendable {
    private let store: any GatewayStore
    private let secrets: SecretService
    private let apiKeys: APIKeyService?
    private let limiter: (any RateLimiterBackend)?
    /// Projects' managed publishable keys.
    public let managedKeys: GatewayKeyService?
    /// Signed requests' nonces, recorded in group commits.
    private let nonces: NonceCommitter
    private let clock: any CofferClock
    /// Refusal counts per client (this instance's; suspensions are stored and shared).
    public let anomalies = AnomalyTracker()
    /// Projects parsed from their stored text, reused while the text read from storage is the same
    /// (parsing and checking a document costs more than the rest of a call's rules).
    private let parsed = Mutex<[String: (text: String, project: GatewayProject)]>([:])

    /// Creates the service.
    public init(
        store: any GatewayStore, secrets: SecretService, apiKeys: APIKeyService? = nil, limiter: (any RateLimiterBackend)? = nil,
        clock: any CofferClock
    ) {
        self.limiter = limiter
        self.nonces = NonceCommitter(store: store)
        self.managedKeys = apiKeys.map { GatewayKeyService(store: store, apiKeys: $0, keyring: secrets.keyring, clock: clock) }
        self.store = store
        self.secrets = secrets
        self.apiKeys = apiKeys
        self.clock = clock
    }

    // MARK: - Projects

    /// Creates or replaces a project from its document; returns it as stored.
    public func put(tenant: Tenant, name: String, document: JSONValue, in work: UnitOfWork) async throws -> GatewayProject {
        let project = try GatewayProject.parse(name: name, document, environment: tenant.environment)
        let text = String(decoding: project.document.canonicalBytes(), as: UTF8.self)
        let before = try await store.project(tenantID: tenant.id, name: name).flatMap { JSONValue.parse(Array($0.utf8)) }
        // Each change is named in the entry (configuration changes are audited one by one, even when saved together).
        work.addDetails(["changes": Self.changes(from: before, to: project.document)])
        let existed = try await store.putProject(tenantID: tenant.id, name: name, document: text, at: clock.nowMillis, in: work)
        work.addDetails(["created": "\(!existed)", "enabled": "\(project.enabled)", "routes": "\(project.routes.count)"])
        return project
    }

    /// What changed between two project documents, e.g. `routes+today routes~forecast providers-old
    /// allowed_origins` (`+` added, `-` removed, `~` changed; a bare name for a changed setting).
    static func changes(from before: JSONValue?, to after: JSONValue) -> String {
        guard let old = before?.objectValue, let new = after.objectValue else { return "created" }
        var out: [String] = []
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] {
            if let oldMembers = old[key]?.objectValue, let newMembers = new[key]?.objectValue,
                ["providers", "routes", "clients", "jwt_clients", "mtls_clients"].contains(key)
            {
                for member in Set(oldMembers.keys).union(newMembers.keys).sorted() where oldMembers[member] != newMembers[member] {
                    let mark = oldMembers[member] == nil ? "+" : newMembers[member] == nil ? "-" : "~"
                    out.append("\(key)\(mark)\(member)")
                }
            } else {
                out.append(key)
            }
        }
        return out.isEmpty ? "none" : out.joined(separator: " ")
    }

    /// A project, or `NOT_FOUND`.
    public func project(tenant: Tenant, name: String) async throws -> GatewayProject {
        guard TransitKey.isValidName(name), let text = try await store.project(tenantID: tenant.id, name: name) else {
            throw CofferError(.notFound, TransitKey.isValidName(name) ? "no gateway project named '\(name)'" : "no gateway project of this name")
        }
        let key = "\(tenant.id)|\(tenant.environment.rawValue)|\(name)"
        if let hit = parsed.withLock({ $0[key] }), hit.text == text { return hit.project }
        guard let document = JSONValue.parse(Array(text.utf8)),
            let project = try? GatewayProject.parse(name: name, document, environment: tenant.environment)
        else {
            throw CofferError(.storageCorrupt, "the stored gateway project '\(name)' is not one this version wrote")
        }
        parsed.withLock { parsed in
            if parsed.count >= 10_000 { parsed.removeAll() }
            parsed[key] = (text, project)
        }
        return project
    }

    /// A tenant's project names.
    public func names(tenant: Tenant) async throws -> [String] { try await store.projectNames(tenantID: tenant.id) }

    /// Deletes a project, or `NOT_FOUND`.
    /// Its managed publishable key is revoked with it.
    public func delete(tenant: Tenant, name: String, in work: UnitOfWork) async throws {
        let managed = TransitKey.isValidName(name) ? try await store.managedKey(tenantID: tenant.id, project: name) : nil
        if let managed { work.addDetails(["revoked_key": managed.keyID]) }
        guard TransitKey.isValidName(name), try await store.deleteProject(tenantID: tenant.id, name: name, in: work) else {
            throw CofferError(.notFound, "no gateway project of this name")
        }
        if let managed, let apiKeys {
            _ = try? await apiKeys.revoke(
                id: managed.keyID, tenantID: tenant.id, reason: "its gateway project was deleted", by: "coffer gateway", grantor: .role(.admin),
                in: work)
        }
    }

    // MARK: - Calls

    /// What arrives from the client.
    public struct Incoming: Sendable {
        /// HTTP method.
        public var method: String
        /// The path after `/call`, still percent-encoded.
        public var rawPath: String
        /// The raw query string (without `?`), if any.
        public var rawQuery: String?
        /// Request headers (name, value), names as received.
        public var headers: [(String, String)]
        /// The body.
        public var body: [UInt8]

        /// Creates an incoming call.
        public init(method: String, rawPath: String, rawQuery: String?, headers: [(String, String)], body: [UInt8]) {
            self.method = method
            self.rawPath = rawPath
            self.rawQuery = rawQuery
            self.headers = headers
            self.body = body
        }
    }

    /// What goes upstream.
    public struct UpstreamCall: Sendable {
        /// The route's name.
        public var routeName: String
        /// The provider.
        public var provider: GatewayProvider
        /// HTTP method.
        public var method: String
        /// The full URL, query included (it may hold an injected credential: never log it).
        public var url: String
        /// The URL without its query, for the audit log.
        public var auditTarget: String
        /// Headers to send (the credential's included).
        public var headers: [(String, String)]
        /// The body, if the route takes one.
        public var body: [UInt8]?
        /// Response headers to pass back.
        public var responseHeaders: [String]
        /// The provider's client-certificate private key (PEM), read from KV for this call; never logged.
        public var clientKeyPEM: String?

        /// A plain GET of `provider`'s base URL, with no credential (a JWKS document, say).
        public static func fetch(_ provider: GatewayProvider) -> UpstreamCall {
            plain(provider, method: "GET", headers: [("accept", "application/json")], body: nil)
        }

        /// A POST of `body` to `provider`'s base URL with `headers` and no stored credential (a webhook delivery).
        public static func post(_ provider: GatewayProvider, headers: [(String, String)], body: [UInt8]) -> UpstreamCall {
            plain(provider, method: "POST", headers: headers, body: body)
        }

        /// A call to `provider`'s base URL itself, outside any route and without a stored credential.
        static func plain(_ provider: GatewayProvider, method: String, headers: [(String, String)], body: [UInt8]?) -> UpstreamCall {
            let origin = "\(provider.scheme)://\(GatewayService.hostForURL(provider.host)):\(provider.port)"
            return UpstreamCall(
                routeName: "", provider: provider, method: method, url: origin + provider.basePath, auditTarget: origin + provider.basePath,
                headers: headers, body: body, responseHeaders: [])
        }
    }

    /// The route for `method` and raw path, or `ROUTE_NOT_FOUND` (also for a path that cannot be
    /// matched safely: bad encoding, traversal, control characters).
    public func route(in project: GatewayProject, method: String, rawPath: String) throws(CofferError) -> (String, GatewayRoute, [String: String]) {
        guard let segments = RouteTemplate.decodedSegments(rawPath), let found = project.route(method: method, segments: segments) else {
            throw CofferError(.routeNotFound, "no route of this project matches this method and path")
        }
        return (found.name, found.route, found.parameters)
    }

    /// Checks a call against its route and builds the upstream request, credential included.
    public func prepare(tenant: Tenant, project: GatewayProject, _ incoming: Incoming) async throws -> UpstreamCall {
        guard project.enabled else { throw CofferError(.projectDisabled, "the gateway project '\(project.name)' is disabled") }
        let (routeName, route, parameters) = try route(in: project, method: incoming.method, rawPath: incoming.rawPath)
        guard let provider = project.providers[route.provider] else { throw CofferError(.storageCorrupt, "route names a missing provider") }
        for (name, value) in parameters {
            _ = try (route.pathParameters[name] ?? GatewayRoute.defaultParameter).validate(text: value, path: name)
        }
        var query: [(String, String)] = []
        var seen: Set<String> = []
        for (name, value) in try GatewayQuery.pairs(incoming.rawQuery) {
            guard let schema = route.query[name] else {
                throw CofferError(
                    .invalidRequest,
                    "a query parameter is not declared for this route (declared: \(route.query.keys.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else { throw CofferError(.invalidRequest, "query parameter '\(name)' is given more than once") }
            _ = try schema.validate(text: value, path: name)
            query.append((name, value))
        }
        if let missing = route.requiredQuery.first(where: { !seen.contains($0) }) {
            throw CofferError(.invalidRequest, "query parameter '\(missing)' is required")
        }
        var body: [UInt8]?
        if let schema = route.body {
            guard let value = JSONValue.parse(incoming.body) else { throw CofferError(.malformedJSON, "the request body must be JSON") }
            try schema.validate(value, path: "body")
            body = incoming.body
        } else if !incoming.body.isEmpty {
            throw CofferError(.invalidRequest, "this route takes no request body")
        }
        var headers: [(String, String)] = []
        for (name, value) in incoming.headers where route.requestHeaders.contains(name.lowercased()) {
            guard GatewayHeaders.isSafeValue(value) else { throw CofferError(.invalidRequest, "a header value holds control characters") }
            headers.append((name.lowercased(), value))
        }
        if body != nil { headers.append(("content-type", "application/json")) }
        let path = provider.basePath + route.template.expand(parameters)
        let origin = "\(provider.scheme)://\(Self.hostForURL(provider.host)):\(provider.port)"
        if let credential = provider.credential {
            let value = try await credentialValue(tenant: tenant, credential)
            switch credential.placement {
            case .header: headers.append((credential.name?.lowercased() ?? "authorization", value))
            case .bearer: headers.append(("authorization", "Bearer \(value)"))
            case .basic: headers.append(("authorization", "Basic \(Data(value.utf8).base64EncodedString())"))
            case .query: query.append((credential.name ?? "key", value))
            }
        }
        var clientKeyPEM: String?
        if let clientKey = provider.clientKey {
            clientKeyPEM = try await Self.readCredential(secrets, tenant: tenant, clientKey, allowLineBreaks: true)
        }
        let queryText = query.map { "\(RouteTemplate.percentEncode($0.0))=\(RouteTemplate.percentEncode($0.1))" }.joined(separator: "&")
        return UpstreamCall(
            routeName: routeName, provider: provider, method: route.method, url: origin + path + (queryText.isEmpty ? "" : "?" + queryText),
            auditTarget: origin + path, headers: headers, body: body, responseHeaders: route.responseHeaders, clientKeyPEM: clientKeyPEM)
    }

    /// Authenticates a signed request to `project`: the signature (RFC 9421 or the simple form) against
    /// the project's signing clients, then the nonce, which is accepted once across every instance
    /// (`SIGNATURE_REPLAYED` the second time). Returns the client's name and profile.
    public func authenticateSigned(
        tenant: Tenant, project: GatewayProject, _ message: RequestSignatures.Message
    ) async throws -> (String, GatewaySigningClient) {
        guard !project.clients.isEmpty else {
            throw CofferError(.requestSignatureInvalid, "request signature refused: this project has no signing clients")
        }
        let now = clock.nowMillis / 1000
        let accepted = try await RequestSignatures.verify(message, clients: project.clients, nowSeconds: now) { credential in
            Array(try await credentialValue(tenant: tenant, credential).utf8)
        }
        guard let client = project.clients[accepted.client] else { throw CofferError(.internalError, "verified client vanished") }
        let item = NonceCommitter.Item(tenantID: tenant.id, scope: project.name, nonce: accepted.nonce, expiresAt: accepted.expiresAt)
        guard try await nonces.remember(item, now: now) else {
            throw CofferError(.signatureReplayed, "request signature refused: this signature was already used")
        }
        return (accepted.client, client)
    }

    /// How an authenticated client that is not a Coffer credential (a signing client, a JWT subject)
    /// is known, limited and audited.
    public struct ClientProfile: Sendable {
        /// Its id in the project (suspensions, limits): `client:<name>` or `jwt:<profile>:<subject>`.
        public var id: String
        /// Its audit actor kind.
        public var actorKind: String
        /// Its audit display name.
        public var displayName: String
        /// Routes it may call (nil = all).
        public var routes: [String]?
        /// Its network allow-list, rate limit and quota.
        public var limits: GatewayClientLimits

        /// Creates one.
        public init(id: String, actorKind: String, displayName: String, routes: [String]?, limits: GatewayClientLimits) {
            self.id = id
            self.actorKind = actorKind
            self.displayName = displayName
            self.routes = routes
            self.limits = limits
        }
    }

    /// Admits a call of an authenticated client profile: its network allow-list (`PERMISSION_DENIED`),
    /// then its rate limit and quota (`RATE_LIMITED`, `QUOTA_EXCEEDED` with the limit's status), shared
    /// by every instance on the same database. Returns the rate limit's status, if it has one.
    @discardableResult
    public func admit(tenant: Tenant, project: GatewayProject, _ client: ClientProfile, clientIP: String) async throws -> RateLimitStatus? {
        if !client.limits.allowedCIDRs.isEmpty, !client.limits.allowedCIDRs.contains(where: { $0.contains(clientIP) }) {
            throw CofferError(.permissionDenied, "permission denied: this client may not call from this address")
        }
        guard let limiter else { return nil }
        let bucket = "gateway:\(tenant.id):\(project.name):\(client.id)"
        let now = clock.nowMillis
        var status: RateLimitStatus?
        if let rate = client.limits.rateLimit {
            let decision = try await limiter.rate(
                bucket: "rate:" + bucket, limit: rate.limit, periodMillis: Int64(rate.periodSeconds) * 1000, cost: 1, now: now)
            status = RateLimitStatus(limit: rate.limit, decision)
            guard decision.allowed else {
                var error = CofferError(.rateLimited, "rate limit exceeded for this client")
                error.rateLimit = status
                throw error
            }
        }
        if let quota = client.limits.quota {
            let decision = try await limiter.quota(
                bucket: "quota:" + bucket, limit: quota.limit, windowMillis: Int64(quota.periodSeconds) * 1000, cost: 1, now: now)
            guard decision.allowed else {
                var error = CofferError(.quotaExceeded, "quota exhausted for this client")
                error.rateLimit = RateLimitStatus(
                    limit: quota.limit, remaining: 0, resetSeconds: RateLimitStatus.seconds(decision.resetMillis),
                    retryAfterSeconds: max(1, RateLimitStatus.seconds(decision.resetMillis)))
                throw error
            }
        }
        return status
    }

    // MARK: - Suspensions

    /// `CLIENT_SUSPENDED` while `client` is suspended in `project`.
    public func checkSuspension(tenant: Tenant, project: GatewayProject, client: String) async throws {
        guard let (until, _) = try await store.suspension(tenantID: tenant.id, project: project.name, client: client), until > clock.nowMillis else {
            return
        }
        throw CofferError(
            .clientSuspended, "this client is suspended for anomalous behaviour until \(Timestamp.rfc3339(until)); an admin can lift it")
    }

    /// Who a suspension is about: the client's id in the project, and the API key behind it, if any.
    public struct Watched: Sendable {
        /// The client's id (credential id or signing client name).
        public var client: String
        /// The API (or publishable) key the client called with, revoked with the suspension when the
        /// project says `revoke_key`.
        public var apiKeyID: String?

        /// Creates one.
        public init(client: String, apiKeyID: String?) {
            self.client = client
            self.apiKeyID = apiKeyID
        }
    }

    /// Counts what `client` did (a refusal, or an admitted call from `clientIP`); when it crosses the
    /// project's threshold the client is suspended (and its key revoked when the project says so), each
    /// recorded in its own audit entry (`anomaly.detected` with the evidence, `keys.revoke`) when
    /// `audited`. Returns whether this event suspended it.
    @discardableResult
    public func record(
        _ event: AnomalyWindow.Event, tenant: Tenant, project: GatewayProject, _ watched: Watched, requestID: String, audited: Bool
    ) async throws -> Bool {
        guard project.anomaly.enabled else { return false }
        let now = clock.nowMillis
        guard let reason = anomalies.record(event, key: "\(tenant.id)|\(project.name)|\(watched.client)", now: now, policy: project.anomaly)
        else { return false }
        let until = now + Int64(project.anomaly.suspendSeconds) * 1000
        let actor = AuditActor(kind: "system", id: "coffer", role: "", displayName: "anomaly detection")
        func work(_ operation: String, _ type: String, _ id: String, _ details: [String: String]) -> UnitOfWork {
            let record = AuditRecord(
                time: now, actor: actor, operation: operation, resourceType: type, resourceID: id, clientIP: "", userAgent: "",
                requestID: requestID, status: 200, errorCode: "", request: .null, details: details)
            let work = audited ? UnitOfWork(record: record) : .unaudited()
            work.identify(tenantID: tenant.id, actor: actor) { $0 }
            return work
        }
        var details = ["reason": reason, "suspended_until": Timestamp.rfc3339(until), "window_seconds": String(project.anomaly.windowSeconds)]
        if project.anomaly.revokeKey, let keyID = watched.apiKeyID, let apiKeys {
            let revocation = work("keys.revoke", "api_key", keyID, ["reason": "anomaly: \(reason)"])
            _ = try? await apiKeys.revoke(
                id: keyID, tenantID: tenant.id, reason: "anomaly detected in gateway project \(project.name)", by: "coffer anomaly detection",
                grantor: .role(.admin), in: revocation)
            details["key_revoked"] = keyID
        }
        // A project's managed publishable key is replaced at once (no overlap) when it misbehaves.
        if let keyID = watched.apiKeyID, let managedKeys, try await managedKeys.isManaged(tenant: tenant, project: project.name, keyID: keyID) {
            let rotation = work("gateway.key.rotate", "gateway_project", project.name, ["reason": "anomaly: \(reason)"])
            let replaced = try? await managedKeys.rotate(tenant: tenant, project: project, overlapMillis: 0, in: rotation)
            details["managed_key_replaced_by"] = replaced?.keyID ?? "failed"
        }
        try await store.suspend(
            tenantID: tenant.id, project: project.name, client: watched.client, until: until, reason: reason, at: now,
            in: work("anomaly.detected", "gateway_client", "\(project.name)/\(watched.client)", details))
        return true
    }

    /// Lifts a suspension, or `NOT_FOUND`.
    public func liftSuspension(tenant: Tenant, project: String, client: String, in work: UnitOfWork) async throws {
        guard try await store.liftSuspension(tenantID: tenant.id, project: project, client: client, in: work) else {
            throw CofferError(.notFound, "no suspension of this client")
        }
    }

    /// A project's suspensions still in force.
    public func suspensions(tenant: Tenant, project: String) async throws -> [(client: String, until: Int64, reason: String)] {
        let now = clock.nowMillis
        return try await store.suspensions(tenantID: tenant.id, project: project).filter { $0.until > now }
    }

    /// Forgets nonces whose window has closed.
    public func sweepNonces() async throws { try await store.sweepNonces(now: clock.nowMillis / 1000) }

    /// The credential's current value from KV; `UPSTREAM_REFUSED` (naming the reference, never a value)
    /// when it cannot be read or could break a header.
    func credentialValue(tenant: Tenant, _ credential: GatewayCredential) async throws -> String {
        try await Self.readCredential(secrets, tenant: tenant, credential)
    }

    /// Reads a credential's value from KV (see ``credentialValue(tenant:_:)``).
    /// `allowLineBreaks` is for PEM keys, which never go into a header.
    public static func readCredential(
        _ secrets: SecretService, tenant: Tenant, _ credential: GatewayCredential, allowLineBreaks: Bool = false
    ) async throws -> String {
        let reference = "\(credential.mount)/\(credential.secretPath)#\(credential.field)"
        let data: [String: JSONValue]?
        do {
            data = try await secrets.read(tenant: tenant, mount: credential.mount, path: credential.secretPath, version: nil).data
        } catch let error as CofferError where error.code == .notFound || error.code == .invalidRequest {
            throw CofferError(.upstreamRefused, "the provider's credential \(reference) cannot be read")
        }
        guard let value = data?[credential.field]?.stringValue, !value.isEmpty else {
            throw CofferError(.upstreamRefused, "the provider's credential \(reference) has no such field")
        }
        guard allowLineBreaks || GatewayHeaders.isSafeValue(value) else {
            throw CofferError(.upstreamRefused, "the provider's credential \(reference) holds control characters")
        }
        return value
    }

    /// An IPv6 literal in brackets for a URL.
    static func hostForURL(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}

import Foundation

/// A gateway project: what a frontend or service may call through Coffer, in one tenant. Disabled
/// and without routes until configured; a browser origin must be listed to get any answer.
public struct GatewayProject: Sendable, Equatable {
    /// The project's name (`A-Z a-z 0-9 - _ .`, 1-128).
    public var name: String
    /// Whether calls are proxied at all (false until set).
    public var enabled = false
    /// Exact browser origins (`https://app.example.com`); `*` only outside production tenants.
    public var allowedOrigins: [String] = []
    /// Upstreams by name.
    public var providers: [String: GatewayProvider] = [:]
    /// Routes by name.
    public var routes: [String: GatewayRoute] = [:]
    /// Clients that authenticate by signing their requests, by name.
    public var clients: [String: GatewaySigningClient] = [:]
    /// Client profiles that present a JWT from a trusted issuer, by name.
    public var jwtClients: [String: GatewayJWTClient] = [:]
    /// Client profiles that present a TLS client certificate, by name.
    public var certificateClients: [String: GatewayCertificateClient] = [:]
    /// The project's managed, rotating publishable key, if it has one.
    public var publishableKey: PublishableKeyPolicy?
    /// When clients are suspended for behaving unlike clients.
    public var anomaly = GatewayAnomalyPolicy()

    /// Parses and checks a project document (`enabled`, `allowed_origins`, `providers`, `routes`);
    /// every unknown field and every inconsistency is `INVALID_REQUEST` naming where it is.
    public static func parse(name: String, _ document: JSONValue, environment: TenantEnvironment) throws(CofferError) -> GatewayProject {
        guard TransitKey.isValidName(name) else { throw CofferError(.invalidRequest, "project names are 1-128 of A-Z a-z 0-9 - _ .") }
        var reader = try StrictObject(document, path: "")
        var project = GatewayProject(name: name)
        project.enabled = try reader.bool("enabled") ?? false
        for origin in try reader.strings("allowed_origins") ?? [] {
            try GatewayOrigin.check(origin, environment: environment)
            guard !project.allowedOrigins.contains(origin) else { throw CofferError(.invalidRequest, "allowed_origins lists \(origin) twice") }
            project.allowedOrigins.append(origin)
        }
        for (providerName, value) in try reader.members("providers") ?? [:] {
            guard TransitKey.isValidName(providerName) else { throw CofferError(.invalidRequest, "provider names are 1-128 of A-Z a-z 0-9 - _ .") }
            project.providers[providerName] = try GatewayProvider.parse(value, path: "providers.\(providerName)")
        }
        for (routeName, value) in try reader.members("routes") ?? [:] {
            guard TransitKey.isValidName(routeName) else { throw CofferError(.invalidRequest, "route names are 1-128 of A-Z a-z 0-9 - _ .") }
            let route = try GatewayRoute.parse(value, path: "routes.\(routeName)")
            guard project.providers[route.provider] != nil else {
                throw CofferError(.invalidRequest, "routes.\(routeName).provider names no provider of this project")
            }
            project.routes[routeName] = route
        }
        for (clientName, value) in try reader.members("clients") ?? [:] {
            guard TransitKey.isValidName(clientName) else { throw CofferError(.invalidRequest, "client names are 1-128 of A-Z a-z 0-9 - _ .") }
            let client = try GatewaySigningClient.parse(value, path: "clients.\(clientName)")
            guard !project.clients.values.contains(where: { $0.keyID == client.keyID }) else {
                throw CofferError(.invalidRequest, "clients.\(clientName).key_id is used by another client")
            }
            if let unknown = client.routes?.first(where: { project.routes[$0] == nil }) {
                throw CofferError(.invalidRequest, "clients.\(clientName).routes names \(unknown), which is not a route")
            }
            project.clients[clientName] = client
        }
        for (clientName, value) in try reader.members("jwt_clients") ?? [:] {
            guard TransitKey.isValidName(clientName) else { throw CofferError(.invalidRequest, "jwt client names are 1-128 of A-Z a-z 0-9 - _ .") }
            let client = try GatewayJWTClient.parse(value, path: "jwt_clients.\(clientName)")
            guard !project.jwtClients.values.contains(where: { $0.issuer == client.issuer }) else {
                throw CofferError(.invalidRequest, "jwt_clients.\(clientName).issuer is trusted by another profile")
            }
            if let unknown = client.routes?.first(where: { project.routes[$0] == nil }) {
                throw CofferError(.invalidRequest, "jwt_clients.\(clientName).routes names \(unknown), which is not a route")
            }
            project.jwtClients[clientName] = client
        }
        for (clientName, value) in try reader.members("mtls_clients") ?? [:] {
            guard TransitKey.isValidName(clientName) else { throw CofferError(.invalidRequest, "mtls client names are 1-128 of A-Z a-z 0-9 - _ .") }
            let client = try GatewayCertificateClient.parse(value, path: "mtls_clients.\(clientName)")
            if let unknown = client.routes?.first(where: { project.routes[$0] == nil }) {
                throw CofferError(.invalidRequest, "mtls_clients.\(clientName).routes names \(unknown), which is not a route")
            }
            project.certificateClients[clientName] = client
        }
        if let policy = reader.value("publishable_key") { project.publishableKey = try PublishableKeyPolicy.parse(policy, path: "publishable_key") }
        if let anomaly = reader.value("anomaly") { project.anomaly = try GatewayAnomalyPolicy.parse(anomaly, path: "anomaly") }
        try reader.finish()
        let sorted = project.routes.keys.sorted()
        for (index, first) in sorted.enumerated() {
            for second in sorted[(index + 1)...] where project.routes[first]?.overlaps(project.routes[second]) == true {
                throw CofferError(.invalidRequest, "routes \(first) and \(second) match the same requests")
            }
        }
        if project.enabled && project.routes.isEmpty { throw CofferError(.invalidRequest, "a project cannot be enabled without routes") }
        return project
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        [
            "enabled": .bool(enabled),
            "allowed_origins": .array(allowedOrigins.map(JSONValue.string)),
            "providers": .object(providers.mapValues(\.document)),
            "routes": .object(routes.mapValues(\.document)),
            "clients": .object(clients.mapValues(\.document)),
            "jwt_clients": .object(jwtClients.mapValues(\.document)),
            "mtls_clients": .object(certificateClients.mapValues(\.document)),
            "anomaly": anomaly.document,
            "publishable_key": publishableKey?.document ?? .null,
        ]
    }

    /// Whether `origin` (as the client sent it) is listed, compared byte for byte, or `*` is.
    public func allows(origin: String) -> Bool {
        allowedOrigins.contains { $0 == "*" || $0.utf8.elementsEqual(origin.utf8) }
    }

    /// Whether `origin` is listed exactly (not only through `*`).
    public func lists(origin: String) -> Bool { allowedOrigins.contains { $0.utf8.elementsEqual(origin.utf8) } }

    /// The route matching `method` and decoded path `segments`, with its parameters.
    public func route(method: String, segments: [String]) -> (name: String, route: GatewayRoute, parameters: [String: String])? {
        for name in routes.keys.sorted() {
            guard let route = routes[name], route.method == method, let parameters = route.template.match(segments) else { continue }
            return (name, route, parameters)
        }
        return nil
    }

    /// The routes whose path matches `segments`, whatever their method (for preflights).
    public func routes(matching segments: [String]) -> [GatewayRoute] {
        routes.keys.sorted().compactMap { routes[$0] }.filter { $0.template.match(segments) != nil }
    }
}

/// Browser origins as the `Origin` header sends them.
public enum GatewayOrigin {
    /// `scheme://host[:port]`, lowercase, no path; `*` only outside production.
    public static func check(_ origin: String, environment: TenantEnvironment) throws(CofferError) {
        if origin == "*" {
            guard environment != .production else {
                throw CofferError(.invalidRequest, "allowed_origins: '*' is not allowed in a production tenant; list each origin")
            }
            return
        }
        guard let components = URLComponents(string: origin), let scheme = components.scheme, scheme == "https" || scheme == "http",
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil, components.fragment == nil,
            components.user == nil, origin == origin.lowercased(), !origin.hasSuffix("/")
        else {
            throw CofferError(.invalidRequest, "allowed_origins entries are exact origins like https://app.example.com (lowercase, no path)")
        }
    }
}

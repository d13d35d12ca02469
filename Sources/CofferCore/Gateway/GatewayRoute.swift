/// One callable route: method and path template under a provider, with the parameters, body and
/// headers it accepts. Anything not declared is refused before the upstream is called.
public struct GatewayRoute: Sendable, Equatable {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// The path under the provider's base URL.
    public var template: RouteTemplate
    /// The provider's name.
    public var provider: String
    /// A schema per path parameter (default: a string of 1-256 characters).
    public var pathParameters: [String: ParameterSchema] = [:]
    /// The query parameters accepted, each with its schema.
    public var query: [String: ParameterSchema] = [:]
    /// Query parameters that must be present.
    public var requiredQuery: [String] = []
    /// The JSON body's schema; nil = no body accepted.
    public var body: ParameterSchema?
    /// Request headers forwarded (lowercase names); all others are dropped.
    public var requestHeaders: [String] = []
    /// Response headers passed back (lowercase names).
    public var responseHeaders: [String] = ["content-type"]

    static let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    static let defaultParameter = ParameterSchema.node(
        .init(type: "string", minLength: 1, maxLength: 256, source: ["type": "string", "minLength": 1, "maxLength": 256]))

    /// Parses a route document.
    public static func parse(_ value: JSONValue, path: String) throws(CofferError) -> GatewayRoute {
        var reader = try StrictObject(value, path: path)
        let method = try reader.requiredString("method").uppercased()
        guard methods.contains(method) else { throw CofferError(.invalidRequest, "'\(path).method' must be GET, POST, PUT, PATCH or DELETE") }
        var route = GatewayRoute(
            method: method, template: try RouteTemplate(try reader.requiredString("path")), provider: try reader.requiredString("provider"))
        let declared = try reader.members("path_parameters") ?? [:]
        for name in route.template.parameterNames {
            route.pathParameters[name] =
                try declared[name].map { value throws(CofferError) in try ParameterSchema.parse(value, path: "\(path).path_parameters.\(name)") }
                ?? defaultParameter
        }
        if let extra = declared.keys.sorted().first(where: { !route.template.parameterNames.contains($0) }) {
            throw CofferError(.invalidRequest, "'\(path).path_parameters.\(extra)' is not a parameter of the path")
        }
        for (name, schema) in try reader.members("query") ?? [:] {
            guard !name.isEmpty, name.utf8.count <= 128 else { throw CofferError(.invalidRequest, "'\(path).query' names must be 1-128 bytes") }
            route.query[name] = try ParameterSchema.parse(schema, path: "\(path).query.\(name)")
        }
        route.requiredQuery = try reader.strings("required_query") ?? []
        if let missing = route.requiredQuery.first(where: { route.query[$0] == nil }) {
            throw CofferError(.invalidRequest, "'\(path).required_query' names \(missing), which query does not declare")
        }
        if let body = reader.value("body") {
            guard method != "GET", method != "DELETE" else { throw CofferError(.invalidRequest, "'\(path).body' is not allowed for \(method)") }
            route.body = try ParameterSchema.parse(body, path: "\(path).body")
        }
        route.requestHeaders = try headerList(&reader, "request_headers", path: path, forbidden: GatewayHeaders.neverForwarded) ?? []
        route.responseHeaders = try headerList(&reader, "response_headers", path: path, forbidden: GatewayHeaders.neverReturned) ?? ["content-type"]
        try reader.finish()
        return route
    }

    private static func headerList(_ reader: inout StrictObject, _ key: String, path: String, forbidden: Set<String>) throws(CofferError) -> [String]?
    {
        guard let names = try reader.strings(key) else { return nil }
        var out: [String] = []
        for name in names {
            let lower = name.lowercased()
            guard GatewayHeaders.isToken(name), !lower.hasPrefix("x-coffer-") else {
                throw CofferError(.invalidRequest, "'\(path).\(key)' holds a name that is not a header name")
            }
            guard !forbidden.contains(lower) else { throw CofferError(.invalidRequest, "'\(path).\(key)': \(lower) is never passed through") }
            if !out.contains(lower) { out.append(lower) }
        }
        return out
    }

    /// Whether another route answers some request this one answers (same method, and paths that can match the same segments).
    func overlaps(_ other: GatewayRoute?) -> Bool {
        guard let other, other.method == method, other.template.segments.count == template.segments.count else { return false }
        for (a, b) in zip(template.segments, other.template.segments) {
            if case .literal(let x) = a, case .literal(let y) = b, x != y { return false }
        }
        return true
    }

    /// The document as stored and read back.
    public var document: JSONValue {
        var out: [String: JSONValue] = [
            "method": .string(method), "path": .string(template.text), "provider": .string(provider),
            "path_parameters": .object(pathParameters.mapValues(\.source)), "query": .object(query.mapValues(\.source)),
            "required_query": .array(requiredQuery.map(JSONValue.string)), "request_headers": .array(requestHeaders.map(JSONValue.string)),
            "response_headers": .array(responseHeaders.map(JSONValue.string)),
        ]
        if let body { out["body"] = body.source }
        return .object(out)
    }
}

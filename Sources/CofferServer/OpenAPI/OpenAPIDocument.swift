import CofferCore

/// Coffer's OpenAPI 3.1 document, built once from ``OpenAPIRoutes``. Every operation documents its
/// path parameters, a JSON body where the method takes one, its security (a Vault token in
/// `X-Vault-Token` or a bearer token or API key, unless public) and its error answers exactly:
/// `{"errors": [..], "code": <one of Coffer's codes>, "request_id": ..}` for every 4xx and 5xx.
/// Success bodies are Vault's response envelope or a feature's own JSON, described in the README.
enum OpenAPIDocument {
    /// The document's JSON bytes.
    static let bytes: [UInt8] = document.canonicalBytes()

    static var document: JSONValue {
        var paths: [String: JSONValue] = [:]
        for operation in OpenAPIRoutes.operations {
            let key = operation.method == "LIST" ? "get" : operation.method.lowercased()
            var item = paths[openAPIPath(operation.path)]?.objectValue ?? [:]
            if operation.method == "LIST" {
                // Vault's LIST: `GET …?list=true`, beside (or instead of) a plain read of the same path.
                var get = item["get"]?.objectValue ?? self.operation(operation, method: "GET")
                get["x-coffer-list"] = .bool(true)
                var parameters = get["parameters"]?.arrayValue ?? []
                parameters.append([
                    "name": "list", "in": "query", "required": .bool(item["get"] == nil), "description": "`true`: Vault's LIST of this path",
                    "schema": ["type": "string", "enum": ["true"]],
                ])
                get["parameters"] = .array(parameters)
                item["get"] = .object(get)
            } else if var existing = item[key]?.objectValue {
                // A plain GET registered after the LIST of the same path: the list parameter becomes optional.
                existing["x-coffer-route"] = .string(operation.path)
                item[key] = .object(existing)
            } else {
                item[key] = .object(self.operation(operation, method: operation.method))
            }
            paths[openAPIPath(operation.path)] = .object(item)
        }
        let tags = Set(OpenAPIRoutes.operations.map(\.tag)).sorted().map { JSONValue.object(["name": .string($0)]) }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Coffer", "version": .string(SysController.version),
                "description": .string(
                    "Coffer's HTTP API: Vault-compatible system, token, KV v2, transit and wrapping routes, and Coffer's own API keys, "
                        + "keyring, audit, protect, gateway, alerts and identity. Success bodies follow Vault's envelope "
                        + "(request_id, lease_id, renewable, lease_duration, data, wrap_info, warnings, auth) unless noted in the README."),
            ],
            "paths": .object(paths), "tags": .array(tags),
            "security": [["vaultToken": []], ["bearer": []]],
            "components": [
                "securitySchemes": [
                    "vaultToken": ["type": "apiKey", "in": "header", "name": "X-Vault-Token"],
                    "bearer": ["type": "http", "scheme": "bearer", "description": "A Coffer token (cft_…) or API key (sk_…)"],
                ],
                "schemas": [
                    "Error": [
                        "type": "object", "required": ["errors", "code", "request_id"],
                        "properties": [
                            "errors": ["type": "array", "items": ["type": "string"]],
                            "code": ["type": "string", "enum": .array(ErrorCode.allCases.map { .string($0.rawValue) })],
                            "request_id": ["type": "string"],
                        ],
                    ]
                ],
                "responses": [
                    "Error": [
                        "description": "Coffer's error: a stable code and the request id; never an echo of a secret",
                        "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
                    ]
                ],
            ],
        ]
    }

    static func operation(_ operation: OpenAPIOperation, method: String) -> [String: JSONValue] {
        var parameters: [JSONValue] = []
        for name in pathParameters(operation.path) {
            parameters.append([
                "name": .string(name), "in": "path", "required": true,
                "description": .string(name == "path" ? "the rest of the path (may contain `/`)" : name),
                "schema": ["type": "string", "minLength": 1],
            ])
        }
        var object: [String: JSONValue] = [
            "tags": [.string(operation.tag)], "operationId": .string(operationID(method, operation.path)),
            "summary": .string("\(method) \(operation.path)"), "x-coffer-route": .string(operation.path),
            "responses": [
                "2XX": ["description": "Success"], "4XX": ["$ref": "#/components/responses/Error"],
                "5XX": ["$ref": "#/components/responses/Error"],
            ],
        ]
        if !parameters.isEmpty { object["parameters"] = .array(parameters) }
        if ["POST", "PUT", "PATCH"].contains(method) {
            object["requestBody"] = ["required": false, "content": ["application/json": ["schema": ["type": "object"]]]]
        }
        if operation.isPublic { object["security"] = [[:]] }
        return object
    }

    /// The router's template as an OpenAPI path: `**` becomes `{path}`.
    static func openAPIPath(_ template: String) -> String {
        template.replacingOccurrences(of: "/**", with: "/{path}")
    }

    static func pathParameters(_ template: String) -> [String] {
        openAPIPath(template).split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }

    static func operationID(_ method: String, _ template: String) -> String {
        let words = openAPIPath(template).split(separator: "/").dropFirst(template.hasPrefix("/v1/") ? 1 : 0).map { segment in
            segment.filter { $0.isLetter || $0.isNumber }
        }
        return ([method.lowercased()] + words).joined(separator: "_")
    }
}

import CofferCore
import CofferServer
import Hummingbird
import Testing

/// The OpenAPI document (`GET /v1/sys/openapi`) against the router, in both directions: every route
/// registered is documented and every documented operation is a route.
@Suite("OpenAPI document")
struct OpenAPITests {
    /// (method, router template) pairs the document claims: LIST operations are GETs marked `x-coffer-list`.
    static func documented(_ document: JSONValue) -> Set<String> {
        var found = Set<String>()
        for (_, item) in document["paths"]?.objectValue ?? [:] {
            for (method, operation) in item.objectValue ?? [:] {
                guard let route = operation["x-coffer-route"]?.stringValue else { continue }
                let parameters = operation["parameters"]?.arrayValue ?? []
                let listRequired = parameters.contains { $0["name"] == "list" && $0["required"] == true }
                if !listRequired { found.insert("\(method.uppercased()) \(route)") }
                if operation["x-coffer-list"] == true { found.insert("LIST \(route)") }
            }
        }
        return found
    }

    @Test func everyRouteIsDocumentedAndEveryOperationIsARoute() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let router = CofferApplication.router(runtime: fixture.runtime, logger: fixture.logs.logger)
            let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path)" })
            let reply = try await client.call(.get, "/v1/sys/openapi")
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/json")
            let documented = Self.documented(reply.body)
            #expect(registered.subtracting(documented).sorted() == [], "routes the document lacks")
            #expect(documented.subtracting(registered).sorted() == [], "operations no route serves")
            #expect(registered.count > 200)
            // Vault's path for it serves the same document.
            #expect(try await client.call(.get, "/v1/sys/internal/specs/openapi").raw == reply.raw)
        }
    }

    @Test func operationsDeclareTheirParametersSecurityAndErrors() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let document = try await client.call(.get, "/v1/sys/openapi").body
            #expect(document["openapi"] == "3.1.0")
            let codes = document["components"]?["schemas"]?["Error"]?["properties"]?["code"]?["enum"]?.arrayValue?.compactMap(\.stringValue)
            #expect(codes == ErrorCode.allCases.map(\.rawValue))
            var operationIDs = Set<String>()
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
                for (method, operation) in item.objectValue ?? [:] {
                    let declared = (operation["parameters"]?.arrayValue ?? []).filter { $0["in"] == "path" }.compactMap { $0["name"]?.stringValue }
                    #expect(declared == names, "\(method) \(path)")
                    #expect(operation["responses"]?["4XX"] != nil && operation["responses"]?["5XX"] != nil, "\(method) \(path)")
                    let id = try #require(operation["operationId"]?.stringValue)
                    #expect(operationIDs.insert(id).inserted, "operationId \(id) repeats")
                }
            }
            // Public operations say so; everything else needs a credential.
            #expect(document["paths"]?["/v1/sys/health"]?["get"]?["security"] == [[:]])
            #expect(document["paths"]?["/v1/secret/data/{path}"] == nil)
            #expect(document["paths"]?["/v1/{mount}/data/{path}"]?["get"]?["security"] == nil)
            #expect(document["security"] == [["vaultToken": []], ["bearer": []]])
        }
    }
}

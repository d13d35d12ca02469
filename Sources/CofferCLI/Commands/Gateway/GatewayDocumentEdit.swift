import CofferCore
import Foundation

/// Changes one part of a project's document: reads the project, applies `change`, saves it whole (the
/// server checks the result like any project). Two people editing one project at the same moment can
/// overwrite each other's change; the later save wins.
enum GatewayDocumentEdit {
    /// Reads `project`, lets `change` edit its document, saves it, and returns the saved document.
    @discardableResult
    static func edit(
        _ options: ClientOptions, project: String, _ change: (inout [String: JSONValue]) throws -> Void
    ) async throws -> JSONValue {
        let client = options.client()
        let path = "/v1/gateway/projects/\(Output.escapePath(project))"
        guard var document = try await client.send("GET", path).body["data"]?.objectValue else {
            throw CLIError("the server answered no project document")
        }
        try change(&document)
        return try await client.send("PUT", path, body: .object(document)).body["data"] ?? .null
    }

    /// Sets or removes (`nil`) member `name` of the object member `section` (providers, routes, clients).
    static func set(_ section: String, _ name: String, to value: JSONValue?, in document: inout [String: JSONValue]) throws {
        var members = document[section]?.objectValue ?? [:]
        if value == nil, members[name] == nil { throw CLIError("the project has no \(section.dropLast()) named \(name)") }
        members[name] = value
        document[section] = .object(members)
    }

    /// A JSON object read from a file (`-`: standard input).
    static func object(file: String) throws -> JSONValue {
        let bytes: Data
        if file == "-" {
            bytes = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            bytes = contents
        }
        guard let value = JSONValue.parse(Array(bytes)), value.objectValue != nil else {
            throw CLIError("\(file == "-" ? "standard input" : file) is not a JSON object")
        }
        return value
    }
}

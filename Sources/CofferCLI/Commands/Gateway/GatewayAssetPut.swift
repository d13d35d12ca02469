import ArgumentParser
import CofferCore
import Foundation

/// `coffer gateway asset put PROJECT NAME --file app.js`: uploads (or replaces) an asset and prints the
/// tag that loads it with Subresource Integrity.
struct GatewayAssetPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Upload or replace an asset; prints its integrity and a ready <script>/<link> tag.",
        discussion: """
            The type comes from the name (.js .mjs .css .json .map .wasm) unless --content-type says
            otherwise; at most 512 KiB. With --require-token the asset is served only through URLs made
            by `coffer gateway asset url`.

            Examples:
              coffer gateway asset put weather widget.js --file dist/widget.js
              coffer gateway asset put weather report.js --file report.js --require-token
            """)

    @OptionGroup var options: ClientOptions
    @OptionGroup var output: ReadFormatOption
    @Argument(help: "Project name.") var project: String
    @Argument(help: "Asset name (as served).") var name: String
    @Option(help: "The file to upload; - reads standard input.") var file: String
    @Option(help: "Content type (text/javascript, text/css, application/json, application/wasm).") var contentType: String?
    @Flag(help: "Serve only through expiring URLs.") var requireToken = false

    func run() async throws {
        let bytes: Data
        if file == "-" {
            bytes = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            bytes = contents
        }
        var body: [String: JSONValue] = ["content_base64": .string(Base64.encode(Array(bytes))), "require_token": .bool(requireToken)]
        if let contentType { body["content_type"] = .string(contentType) }
        let path = "/v1/gateway/projects/\(Output.escapePath(project))/assets/\(Output.escapePath(name))"
        let data = try await options.client().send("PUT", path, body: .object(body)).body["data"] ?? .null
        if output.effective == .json { return print(Output.pretty(data)) }
        print("Saved asset \(name) of \(project): \(data["size"]?.intValue ?? 0) bytes, \(data["integrity"]?.stringValue ?? "")")
        if let snippet = data["snippet"]?.stringValue { print(snippet) }
    }
}

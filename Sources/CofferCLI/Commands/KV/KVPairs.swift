import ArgumentParser
import CofferCore
import Foundation

/// The `key=value` arguments of `kv put` and `kv patch`: `key=@file` reads a file, `key=-` reads
/// standard input (once), and `--trim-newline` drops one trailing newline from what was read.
struct KVPairs: ParsableArguments {
    @Flag(help: "Drop one trailing newline (\\n or \\r\\n) from values read from a file (@file) or standard input (-).")
    var trimNewline = false

    @Argument(help: "key=value pairs; key=@file reads a file; key=- reads standard input.") var pairs: [String] = []

    /// The pairs as a JSON object of strings. Errors name the key or file, never a value.
    func data() throws -> [String: JSONValue] {
        guard !pairs.isEmpty else { throw CLIError("give at least one key=value pair") }
        var data: [String: JSONValue] = [:]
        var readStandardInput = false
        for pair in pairs {
            // The argument itself is never shown: a value pasted without its key would be a secret.
            guard let equals = pair.firstIndex(of: "=") else { throw CLIError("expected key=value: an argument has no '='") }
            guard equals != pair.startIndex else { throw CLIError("expected key=value: an argument starts with '=' (no key)") }
            let key = String(pair[..<equals])
            var value = String(pair[pair.index(after: equals)...])
            var read = false
            if value == "-" {
                guard !readStandardInput else { throw CLIError("\(key)=-: standard input can be read for one key only") }
                readStandardInput = true
                value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                read = true
            } else if value.hasPrefix("@") {
                let file = String(value.dropFirst())
                guard let contents = FileManager.default.contents(atPath: file) else { throw CLIError("\(key)=@\(file): cannot read the file") }
                value = String(decoding: contents, as: UTF8.self)
                read = true
            }
            if read && trimNewline {
                if value.hasSuffix("\r\n") {
                    value.removeLast()  // "\r\n" is one Character
                } else if value.hasSuffix("\n") {
                    value.removeLast()
                }
            }
            guard data[key] == nil else { throw CLIError("\(key) is given twice") }
            data[key] = .string(value)
        }
        return data
    }
}

import CofferCore
import Foundation
import Testing

@testable import CofferCLI

/// Every export format, read back by the real readers (dash as `sh`, bash, python-dotenv, PyYAML,
/// Python's json) over a corpus of hostile values: each value comes back exactly, or the export is
/// refused with the reason a test predicts independently. No value may run a command.
@Suite("Export formats read back by their real readers")
struct ExportReadbackTests {
    static let corpus: [String] = [
        "plain", "", " ", "  leading and trailing  ", "it's", "\"", "'\"'", "it's `echo PWNED >&2`", "$(echo PWNED >&2)",
        "`echo PWNED >&2`", "$HOME", "${HOME}", "${HOME:-x}", "\\", "trailing\\", "a\\nb", "a\\'b", "'", "''", "line1\nline2",
        "\nleading newline", "trailing newline\n", "#not a comment", "value # comment", "tab\there", "a=b=c", "; rm -rf /tmp/nothing",
        "!bang !!", "*glob?[a]", "~", "~/x", "ON", "no", "Yes", "y", "N", "off", "0x1F", "1e3", "0o17", "012", "1_000", ".inf", "-.5",
        "null", "Null", "~", "2001-12-14", "12:30:00", "-", "- dash", ": colon", "key: value", "{a: 1}", "[x]", "&anchor", "*alias",
        "|", ">", "%TAG", "@at", "? q", "\u{7f}", "\u{85}nel", "\u{2028}ls", "\u{feff}bom", "\u{1}ctl", "\u{1b}[31mred",
        "ünïcødé ☃", "🔑 key", "e\u{301}", "\r", "a\rb", "crlf\r\n", "nul\u{0}byte", "$", "`", "\\$", "'$'",
        "\"$(x)\"", "a'b\"c", "back\\slash only",
    ]

    /// Runs `script` with `interpreter` in `directory`; returns stdout, failing the test on a nonzero exit.
    static func run(_ interpreter: String, _ arguments: [String], in directory: String) throws -> CofferBinary.Result {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try CofferBinary.runProgram(interpreter, arguments, environment: ["PATH": path, "HOME": directory], cwd: directory)
    }

    static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "coffer-export-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// What dotenv must refuse, decided without the encoder.
    static func dotenvRefusal(_ value: String) -> ExportRefusal.Reason? {
        let scalars = value.unicodeScalars
        if scalars.contains("\u{0}") { return .nul }
        if scalars.contains("\r") { return .carriageReturn }
        if value.contains("${") { return .interpolation }
        let needsDouble = scalars.contains("'") || scalars.contains("\\")
        let expands = scalars.contains("$") || scalars.contains("`")
        return needsDouble && expands ? .noCommonQuoting : nil
    }

    @Test func dotenvIsReadBackExactlyByShAndBashAndPythonDotenvOrRefused() throws {
        let directory = try Self.scratch()
        var accepted: [Int: String] = [:]
        for (index, value) in Self.corpus.enumerated() {
            let expected = Self.dotenvRefusal(value)
            let text: String
            do {
                text = try ExportFormat.dotenv.render([("V", value)])
            } catch {
                #expect(error.reason == expected, "value #\(index)")
                #expect(error.key == "V")
                continue
            }
            #expect(expected == nil, "value #\(index) should have been refused")
            try text.write(toFile: "\(directory)/\(index).env", atomically: true, encoding: .utf8)
            accepted[index] = value
        }
        #expect(accepted.count > Self.corpus.count * 3 / 4)
        let indices = accepted.keys.sorted().map(String.init).joined(separator: " ")
        for shell in ["/bin/sh", "/bin/bash"] {
            let result = try Self.run(
                shell, ["-c", "for i in \(indices); do (set -a; . ./$i.env; printf '%s %s\\n' $i \"$(printf %s \"$V\" | base64 -w0)\"); done"],
                in: directory)
            #expect(!result.stderr.contains("PWNED"), "\(shell) ran a command: \(result.stderr)")
            let read = Self.decodeLines(result.stdout)
            for (index, value) in accepted { #expect(read[index] == value, "\(shell) read value #\(index) differently") }
        }
        let python = try Self.run(
            "/usr/bin/env",
            [
                "python3",
                "-c",
                """
                import base64, sys
                from dotenv import dotenv_values
                for i in sys.argv[1:]:
                    v = dotenv_values(i + ".env").get("V")
                    print(i, base64.b64encode(v.encode()).decode() if v is not None else "MISSING")
                """,
            ] + accepted.keys.sorted().map(String.init), in: directory)
        #expect(python.status == 0, "python-dotenv: \(python.stderr)")
        #expect(!python.stderr.contains("could not parse"), "python-dotenv skipped a line: \(python.stderr)")
        let read = Self.decodeLines(python.stdout)
        for (index, value) in accepted { #expect(read[index] == value, "python-dotenv read value #\(index) differently") }
    }

    @Test func shellFormatCarriesEveryValueButNul() throws {
        let directory = try Self.scratch()
        var accepted: [Int: String] = [:]
        for (index, value) in Self.corpus.enumerated() {
            let text: String
            do {
                text = try ExportFormat.shell.render([("V", value)])
            } catch {
                #expect(error.reason == .nul && value.unicodeScalars.contains("\u{0}"), "value #\(index)")
                continue
            }
            try text.write(toFile: "\(directory)/\(index).sh", atomically: true, encoding: .utf8)
            accepted[index] = value
        }
        #expect(accepted.count == Self.corpus.count - 1)
        let indices = accepted.keys.sorted().map(String.init).joined(separator: " ")
        for shell in ["/bin/sh", "/bin/bash"] {
            let result = try Self.run(
                shell, ["-c", "for i in \(indices); do (. ./$i.sh; printf '%s %s\\n' $i \"$(printf %s \"$V\" | base64 -w0)\"); done"], in: directory)
            #expect(!result.stderr.contains("PWNED"))
            let read = Self.decodeLines(result.stdout)
            for (index, value) in accepted {
                // Command substitution drops trailing newlines; compare the exported variable itself.
                #expect(read[index] == value, "\(shell) read value #\(index) differently")
            }
        }
    }

    @Test func yamlAndJSONAreReadBackAsTheSameStringsByPyYAMLAndPython() throws {
        let directory = try Self.scratch()
        // Hostile keys too: ON, no, ~ and 1e3 as keys must stay strings.
        let pairs = Self.corpus.enumerated().map { ("K\($0.offset)", $0.element) } + [("ON", "x"), ("no", "y"), ("~", "z"), ("1e3", "w")]
        try ExportFormat.yaml.render(pairs).write(toFile: directory + "/out.yaml", atomically: true, encoding: .utf8)
        try ExportFormat.json.render(pairs).write(toFile: directory + "/out.json", atomically: true, encoding: .utf8)
        let result = try Self.run(
            "/usr/bin/env",
            [
                "python3",
                "-c",
                """
                import base64, json, yaml
                for name, data in (("yaml", yaml.safe_load(open("out.yaml", encoding="utf-8"))), ("json", json.load(open("out.json", encoding="utf-8")))):
                    for k, v in data.items():
                        assert isinstance(k, str) and isinstance(v, str), (name, repr(k), type(v))
                        print(name, base64.b64encode(k.encode("utf-8", "surrogatepass")).decode(), base64.b64encode(v.encode("utf-8", "surrogatepass")).decode())
                """,
            ], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        var read: [String: [String: String]] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 3, let key = Data(base64Encoded: String(parts[1])), let value = Data(base64Encoded: String(parts[2])) else {
                continue
            }
            read[String(parts[0]), default: [:]][String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        for format in ["yaml", "json"] {
            #expect(read[format]?.count == pairs.count, "\(format)")
            for (key, value) in pairs { #expect(read[format]?[key] == value, "\(format) read \(key) differently") }
        }
    }

    @Test func dockerEnvFileIsVerbatimAndRefusesLineBreaks() throws {
        for value in Self.corpus {
            let breaks = value.unicodeScalars.contains { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}", "\u{0}"].contains($0) }
            do {
                let text = try ExportFormat.docker.render([("V", value)])
                #expect(!breaks && text == "V=\(value)\n")
            } catch {
                #expect(breaks && (error.reason == .lineBreak || error.reason == .nul))
            }
        }
    }

    @Test func keysThatAreNotVariableNamesAreRefusedWithoutEchoingThem() throws {
        for format in [ExportFormat.dotenv, .shell, .docker] {
            #expect(throws: ExportRefusal(key: "A;touch /tmp/pwned;B", reason: .invalidName, format: format)) {
                try format.render([("A;touch /tmp/pwned;B", "v")])
            }
            do {
                _ = try format.render([("1X", "v")])
            } catch {
                #expect(error.reason == .invalidName && !error.description.contains("1X"))
            }
        }
        let refusal = ExportRefusal(key: "API_KEY", reason: .noCommonQuoting, format: .dotenv)
        #expect(refusal.description.hasPrefix("cannot export API_KEY as dotenv"))
    }

    static func decodeLines(_ text: String) -> [Int: String] {
        var read: [Int: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]) else { continue }
            read[index] = Data(base64Encoded: String(parts[1])).map { String(decoding: $0, as: UTF8.self) } ?? "UNDECODABLE"
        }
        return read
    }
}

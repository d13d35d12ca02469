import ArgumentParser
import CofferCore
import Foundation

/// `coffer scan [PATH…|-] [--git] [--format text|json|sarif] [--revoke]`: finds Coffer credentials in
/// files, standard input or git history. Exit status 1 when it finds any, 0 when none, 2 when it cannot
/// read what it was given. Never prints a credential: its prefix and last four characters only.
struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find leaked Coffer API keys, tokens and secret IDs in files, stdin or git history.",
        discussion: """
            API keys are reported only when their checksum holds, so random strings of the same shape are
            not. Exit status: 1 if anything was found, 0 if not, 2 if a path or the repository cannot be read.
            --revoke (needs COFFER_TOKEN or a saved login) revokes every key found through POST /v1/keys/leaked,
            reason "leaked: <file>", and revokes found tokens the caller can reach.

            Examples:
              coffer scan .                       # the working tree
              coffer scan --git --format sarif > coffer.sarif
              git diff --cached | coffer scan -   # a pre-commit hook
            """)

    /// Output formats.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif
    }

    @Argument(help: "Files or directories to scan (default: .), or - for standard input.") var paths: [String] = []
    @Flag(help: "Scan every commit on every ref of the repository at PATH (default: .) instead of files.") var git = false
    @Option(help: "Output: text, json or sarif (SARIF 2.1.0).") var format: Format = .text
    @Flag(help: "Revoke every live key found (and tokens the caller can reach).") var revoke = false
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let findings: [ScanFinding]
        let scanned: String
        do {
            (findings, scanned) = try collect()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("coffer scan: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        switch format {
        case .text:
            for item in findings { print("\(item.location): \(item.finding.masked) \(item.finding.kind.title)") }
        case .json:
            print(Output.pretty(.array(findings.map(Self.json))))
        case .sarif:
            print(Output.pretty(SARIFReport.log(findings)))
        }
        let files = Set(findings.map(\.path)).count
        let summary =
            findings.isEmpty
            ? "coffer scan: no Coffer credentials found (\(scanned))"
            : "coffer scan: \(findings.count) finding\(findings.count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s") (\(scanned))"
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if revoke, !findings.isEmpty { try await LeakRevoker(client: options.client()).revoke(findings) }
        if !findings.isEmpty { throw ExitCode(1) }
    }

    /// The findings and a description of what was scanned.
    func collect() throws -> ([ScanFinding], String) {
        if git {
            guard paths.count <= 1, paths.first != "-" else { throw CLIError("--git takes one repository path") }
            let (findings, commits) = try GitHistory.scan(repository: paths.first ?? ".")
            return (findings, "\(commits) commit\(commits == 1 ? "" : "s")")
        }
        if paths == ["-"] { return (ScanSource.standardInput(), "standard input") }
        guard !paths.contains("-") else { throw CLIError("- (standard input) cannot be combined with paths") }
        let (findings, files) = try ScanSource.files(paths.isEmpty ? ["."] : paths) { skipped in
            FileHandle.standardError.write(Data("coffer scan: skipped \(skipped): larger than 16 MiB\n".utf8))
        }
        return (findings, "\(files) file\(files == 1 ? "" : "s")")
    }

    static func json(_ item: ScanFinding) -> JSONValue {
        var fields: [String: JSONValue] = [
            "kind": .string(item.finding.kind.rawValue), "masked": .string(item.finding.masked), "path": .string(item.path),
            "line": .int(item.finding.line), "column": .int(item.finding.column), "fingerprint": .string(item.finding.fingerprint),
        ]
        if let commit = item.commit { fields["commit"] = .string(commit) }
        return .object(fields)
    }
}

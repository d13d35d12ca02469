import CofferCore
import Foundation

/// The added lines of a repository's whole history (`git log --all -p --unified=0`), scanned for
/// credentials: a key committed once and deleted later is still found, at the commit that added it.
enum GitHistory {
    /// Runs git in `repository` and scans every added line of every commit on every ref.
    static func scan(repository: String) throws -> (findings: [ScanFinding], commits: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "git", "-C", repository, "-c", "core.quotePath=false", "log", "--all", "-p", "--unified=0", "--no-color", "--no-ext-diff",
            "--no-renames", "--format=commit %H",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw CLIError("--git: cannot run git (is it installed?)") }
        var parser = GitLogScanner()
        var pending: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending += chunk
            var start = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                parser.feed(pending[start..<newline])
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { parser.feed(pending[...]) }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message =
                String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").first.map(String.init) ?? "git log failed"
            throw CLIError("--git: \(repository): \(message)")
        }
        return (parser.findings, parser.commits)
    }
}

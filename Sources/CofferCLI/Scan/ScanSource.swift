import CofferCore
import Foundation

/// A credential found by `coffer scan`, with its file (and commit).
typealias ScanFinding = LocatedFinding

/// Reads what `coffer scan` looks at: files and directories (recursively, skipping `.git`, `.build*`
/// and `node_modules`), standard input, or the added lines of a repository's whole git history.
enum ScanSource {
    /// Files above this size are skipped (with a note on standard error).
    static let maxFileBytes = 16 << 20

    /// Directory names never descended into.
    static func skipsDirectory(_ name: String) -> Bool {
        name == ".git" || name.hasPrefix(".build") || name == "node_modules"
    }

    /// Findings in the files under `paths`; `skipped` receives files too large to read.
    static func files(_ paths: [String], skipped: (String) -> Void) throws -> (findings: [ScanFinding], files: Int) {
        var findings: [ScanFinding] = []
        var count = 0
        for path in paths {
            for file in try expand(path) {
                guard let size = (try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int else { continue }
                guard size <= maxFileBytes else {
                    skipped(file)
                    continue
                }
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                count += 1
                findings += LeakScanner.scan([UInt8](data)).map { ScanFinding(finding: $0, path: file, commit: nil) }
            }
        }
        return (findings, count)
    }

    /// The regular files at `path` (itself, or everything under it), sorted.
    static func expand(_ path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CLIError("\(path): no such file or directory")
        }
        guard isDirectory.boolValue else { return [path] }
        var files: [String] = []
        var pending = [path]
        while let directory = pending.popLast() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names.sorted() {
                let full = directory == "." ? name : (directory.hasSuffix("/") ? directory + name : directory + "/" + name)
                var nested: ObjCBool = false
                // Symbolic links are not followed (no loops, nothing outside the tree).
                guard let type = (try? FileManager.default.attributesOfItem(atPath: full))?[.type] as? FileAttributeType,
                    type != .typeSymbolicLink, FileManager.default.fileExists(atPath: full, isDirectory: &nested)
                else { continue }
                if nested.boolValue {
                    if !skipsDirectory(name) { pending.append(full) }
                } else if type == .typeRegular {
                    files.append(full)
                }
            }
        }
        return files.sorted()
    }

    /// Findings in standard input.
    static func standardInput() -> [ScanFinding] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return LeakScanner.scan([UInt8](data)).map { ScanFinding(finding: $0, path: "-", commit: nil) }
    }
}

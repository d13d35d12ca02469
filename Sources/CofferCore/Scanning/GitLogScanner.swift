/// A credential found in a file (or standard input, `-`), and in git history the commit that added it.
public struct LocatedFinding: Sendable {
    /// The credential and its position.
    public var finding: LeakScanner.Finding
    /// The file, as given (`-` for standard input).
    public var path: String
    /// The commit that added the line (git history only).
    public var commit: String?

    /// Creates a finding.
    public init(finding: LeakScanner.Finding, path: String, commit: String?) {
        self.finding = finding
        self.path = path
        self.commit = commit
    }

    /// `path:line:column`, with the commit's first 12 characters first in git history.
    public var location: String {
        let place = "\(path):\(finding.line):\(finding.column)"
        return commit.map { "\($0.prefix(12)):\(place)" } ?? place
    }
}

/// Reads `git log -p --unified=0 --format='commit %H'` output line by line and scans every added line.
/// Lines of any content (binary, invalid UTF-8, absurd hunk headers) are taken without crashing.
public struct GitLogScanner: Sendable {
    /// What was found so far.
    public var findings: [LocatedFinding] = []
    /// Commits seen.
    public var commits = 0
    var commit: String?
    var path: String?
    var line = 0
    /// Between `diff --git` and the first hunk: only there is `+++ ` a file name (an added line reading
    /// `++ x` looks the same inside a hunk).
    var inHeader = false

    /// Starts with nothing seen.
    public init() {}

    /// Takes one line (without its newline).
    public mutating func feed(_ text: ArraySlice<UInt8>) {
        if text.starts(with: "commit ".utf8) {
            commit = String(decoding: text.dropFirst(7), as: UTF8.self)
            commits += 1
            path = nil
            inHeader = false
        } else if text.starts(with: "diff --git ".utf8) {
            inHeader = true
            path = nil
            line = 0
        } else if inHeader, text.starts(with: "+++ ".utf8) {
            let name = text.dropFirst(4)
            path = name.starts(with: "b/".utf8) ? String(decoding: name.dropFirst(2), as: UTF8.self) : nil
        } else if text.starts(with: "@@ ".utf8) {
            inHeader = false
            line = Self.newStart(text) ?? 0
        } else if !inHeader, text.first == UInt8(ascii: "+"), let path, line > 0 {
            for found in LeakScanner.scan(Array(text.dropFirst())) {
                var found = found
                found.line = line
                findings.append(LocatedFinding(finding: found, path: path, commit: commit))
            }
            line += 1
        } else if text.first == UInt8(ascii: " "), line > 0 {
            line += 1
        }
    }

    /// The new file's first line in a hunk header `@@ -a,b +c,d @@`.
    static func newStart(_ header: ArraySlice<UInt8>) -> Int? {
        guard let plus = header.firstIndex(of: UInt8(ascii: "+")) else { return nil }
        var value = 0
        var index = plus + 1
        var digits = 0
        while index < header.endIndex, (48...57).contains(header[index]), digits < 10 {
            value = value * 10 + Int(header[index] - 48)
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}

/// The leak scanner (`coffer scan`) over any bytes, as files and as `git log -p` output: never crashes,
/// reports each credential where it is, API keys only with a valid checksum, and masks every value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let lines = input.bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    for finding in LeakScanner.scan(input.bytes) {
        require(finding.line >= 1 && finding.line <= lines.count, "line \(finding.line) outside the input")
        let line = lines[finding.line - 1]
        let offset = line.startIndex + finding.column - 1
        require(finding.column >= 1 && offset + finding.value.utf8.count <= line.endIndex, "column outside the line")
        require(line[offset...].starts(with: finding.value.utf8), "the value is not where the finding says")
        if finding.kind == .apiKey || finding.kind == .publishableKey {
            guard case .success = APIKeyFormat.check(finding.value) else { fatalError("fuzz property violated: a key with a bad checksum") }
        }
        require(!finding.masked.contains(String(finding.value.dropLast(4))), "the mask shows the value")
    }
    var git = GitLogScanner()
    for line in lines { git.feed(line) }
    for located in git.findings { require(located.finding.line >= 1, "a git finding before line 1") }
    return 0
}

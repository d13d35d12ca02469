/// Durations and times from clients (`ttl`, `period`, `before`, `delete_version_after`): never a trap,
/// and anything accepted is within the bounds every caller's arithmetic relies on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = FuzzInput(start, count).text
    if let seconds = Timestamp.parseDuration(text) {
        require((0...Timestamp.maximumDurationSeconds).contains(seconds), "duration out of bounds: \(seconds)")
        _ = Int64(1_790_000_000_000) + seconds * 1000
    }
    if let millis = Timestamp.parse(text) {
        require((0...Timestamp.latestMillis).contains(millis), "time out of bounds: \(millis)")
        _ = Timestamp.rfc3339(millis)
    }
    return 0
}

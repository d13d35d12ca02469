/// JSON (request bodies, stored KV data): the strict parser never crashes, and what it accepts
/// round-trips exactly: canonical bytes parse back to the same value, and are a fixed point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    guard let value = JSONValue.parse(input.bytes) else { return 0 }
    let canonical = value.canonicalBytes()
    guard let again = JSONValue.parse(canonical) else { fatalError("canonical output does not parse") }
    require(again == value, "canonical output parses to another value")
    require(again.canonicalBytes() == canonical, "canonical output is not a fixed point")
    require(JSONValue.parse(value.prettyBytes()) == value, "pretty output parses to another value")
    _ = value.intValue
    return 0
}

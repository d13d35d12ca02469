/// API-key formats and base62/base64: the offline check never crashes, and accepts a key only with a
/// known prefix, the exact shape and a matching checksum.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let text = input.text
    if case .success(let kind) = APIKeyFormat.check(text) {
        require(text.hasPrefix(kind.prefix), "accepted a key without its prefix")
        let head = String(text.dropLast(6))
        require(APIKeyFormat.checksum(of: head) == String(text.suffix(6)), "accepted a key with a wrong checksum")
        _ = APIKeyFormat.displayPrefix(text)
    }
    _ = Base62.isValid(Substring(text))
    if let decoded = Base64.decode(text) { _ = Base64.encode(Array(decoded)) }
    _ = Base64.decodeURL(text)
    return 0
}

/// Expiring asset URL tokens (`?token=` from anyone on the internet): parsing never crashes, accepts
/// only digits, digits and a 32-byte base64url MAC, and a parsed token's text parses to the same token.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = FuzzInput(start, count).text
    guard let token = AssetURLToken.parse(text) else { return 0 }
    require(token.mac.count == 32 && token.expiresAt >= 0 && token.keyVersion >= 0, "out-of-range token accepted")
    require(AssetURLToken.parse(token.text) == token, "a token's text does not parse back to it")
    return 0
}

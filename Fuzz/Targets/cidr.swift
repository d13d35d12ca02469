/// IP allow-lists: CIDR and address parsing never crash; a parsed network contains its own address.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (first, second) = FuzzInput(start, count).twoTexts
    _ = CIDR.isAddress(first)
    guard let network = CIDR(first) else { return 0 }
    _ = network.contains(second)
    let text = network.description
    require(CIDR(text)?.description == text, "CIDR does not round-trip: \(text)")
    if let address = text.split(separator: "/").first { require(network.contains(String(address)), "network misses its own address") }
    return 0
}

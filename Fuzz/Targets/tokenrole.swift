/// Stored token-role documents (read back from the database, so possibly altered): never a crash;
/// a document that decodes re-encodes to one that decodes to the same role. Also the wrapping-token
/// shape check and mount-path rules on the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    _ = Mount.isValidPath(Mount.trim(input.text))
    if Mount.isValidPath(input.text) { require(Mount.trim(input.text) == input.text, "a valid mount path is not trimmed") }
    guard let document = JSONValue.parse(input.bytes) else { return 0 }
    guard let role = try? TokenRole(name: "fuzz", document: document) else { return 0 }
    let again = try? TokenRole(name: "fuzz", document: role.document)
    require(again == role, "a token role does not round-trip: \(role)")
    return 0
}

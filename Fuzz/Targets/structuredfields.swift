/// Signature-Input, Signature and Content-Digest headers (RFC 8941 dictionaries): parsing never
/// crashes, and a parsed member's raw text parses again to the same member.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let text = FuzzInput(start, count).text
    guard let members = StructuredFields.dictionary(text) else { return 0 }
    for (key, member) in members {
        // A bare key (boolean true) keeps only its parameters as raw text.
        let bare = member.raw.isEmpty || member.raw.first == ";"
        let again = StructuredFields.dictionary(bare ? "\(key)\(member.raw)" : "\(key)=\(member.raw)")
        require(again?.count == 1 && again?.first?.1 == member, "member does not re-parse from its raw text: \(key)")
    }
    return 0
}

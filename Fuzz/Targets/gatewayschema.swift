/// Route schemas (from project documents) and the values checked against them (from callers): parsing
/// and validation never crash, and a schema that parses reads back as the document it came from.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (schemaText, valueText) = FuzzInput(start, count).twoTexts
    guard let document = JSONValue.parse(Array(schemaText.utf8)), let schema = try? ParameterSchema.parse(document, path: "s") else { return 0 }
    require(schema.source == document, "schema does not read back as written")
    if let value = JSONValue.parse(Array(valueText.utf8)) { _ = try? schema.validate(value, path: "v") }
    _ = try? schema.validate(text: valueText, path: "v")
    return 0
}

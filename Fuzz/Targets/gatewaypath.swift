/// The gateway's request path and query parsers: never a crash; an accepted path has no separator,
/// traversal or control character in any segment, and a matched route rebuilds a path that decodes
/// back to the same segments (so a parameter can never add a segment or a query).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (path, query) = FuzzInput(start, count).twoTexts
    _ = try? GatewayQuery.pairs(query)
    if let pairs = try? GatewayQuery.pairs(query) {
        for (name, value) in pairs { require(GatewayHeaders.isSafeValue(name) && GatewayHeaders.isSafeValue(value), "control character accepted") }
    }
    guard let segments = RouteTemplate.decodedSegments(path) else { return 0 }
    for segment in segments {
        require(!segment.contains("/") && segment != "." && segment != "..", "unsafe segment accepted")
        require(segment.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7f }, "control character accepted")
    }
    guard !segments.isEmpty, let template = try? RouteTemplate("/" + (0..<segments.count).map { "{p\($0)}" }.joined(separator: "/")),
        let parameters = template.match(segments)
    else { return 0 }
    let rebuilt = template.expand(parameters)
    require(RouteTemplate.decodedSegments(rebuilt) == segments, "expand does not round-trip")
    require(!rebuilt.contains("?") && !rebuilt.contains("#"), "a parameter escaped its segment")
    return 0
}

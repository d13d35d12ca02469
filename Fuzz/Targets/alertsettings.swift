/// Alert settings from JSON (tenant admins' channel and rule requests, and stored documents): parsing
/// never crashes, a parsed channel's webhook URL and addresses hold no control character, and a
/// document read back from its own serialisation is the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    guard let value = JSONValue.parse(input.bytes) else { return 0 }
    if case .object(let fields) = value {
        if let channel = try? AlertChannel.parse(name: "fuzz", fields) {
            for text in [channel.url ?? "", channel.secretRef ?? ""] + channel.to {
                require(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "a control character in a channel")
            }
        }
        for name in AlertRuleName.allCases {
            if let rule = try? AlertRule.defaultRule(name).updated(with: fields) {
                require(rule.windowSeconds >= 10 && rule.threshold >= 0, "a rule out of range")
            }
        }
    }
    if let settings = try? AlertSettings(stored: value) {
        require((try? AlertSettings(stored: settings.json)) == settings, "settings do not round-trip")
    }
    return 0
}

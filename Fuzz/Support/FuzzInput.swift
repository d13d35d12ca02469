/// Reads libFuzzer's input: the raw bytes, and helpers to split them into several values.
struct FuzzInput {
    let bytes: [UInt8]

    init(_ start: UnsafePointer<UInt8>?, _ count: Int) {
        bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    }

    /// The input as text (invalid UTF-8 repaired, as a server decoding a request line would).
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The input cut at its first NUL into two texts (the second empty if there is none).
    var twoTexts: (String, String) {
        guard let split = bytes.firstIndex(of: 0) else { return (text, "") }
        return (String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[(split + 1)...], as: UTF8.self))
    }
}

/// A property the target checks; a violation aborts, which libFuzzer reports with the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz property violated: \(message())") }
}

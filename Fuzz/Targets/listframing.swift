/// The LIST rewriter in front of the HTTP parser: never a crash, and how the stream is cut into reads
/// never changes what comes out (the first byte of the input chooses the cuts).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count).bytes
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    var whole = ListFraming()
    let expected = whole.feed(stream)
    var pieces = ListFraming()
    var output: [UInt8] = []
    var index = 0
    var step = Int(seed % 17) + 1
    while index < stream.count {
        let end = min(stream.count, index + step)
        let chunk = Array(stream[index..<end])
        // The handler's fast path: whole heads without LIST pass through untouched.
        if let next = chunk.withUnsafeBytes({ ListFraming.follow($0, from: pieces.state) }) {
            pieces.state = next
            output += chunk
        } else {
            output += pieces.feed(chunk)
        }
        index = end
        step = step * 7 % 23 + 1
    }
    if case .head(let pending) = pieces.state { output += pending }
    var trailing: [UInt8] = []
    if case .head(let pending) = whole.state { trailing = pending }
    require(output == expected + trailing, "output depends on how the stream is cut into reads")
    return 0
}

import Foundation
import Testing

@testable import CofferCore

@Suite("JSON parser (strict RFC 8259)")
struct JSONParserTests {
    @Test(arguments: [
        #"{}"#, #"[]"#, #"{"a":1}"#, #" { "a" : [1, 2.5, -3e2, true, false, null, "x"] } "#, #""plain""#, #"0"#, #"-0.5E+3"#,
        #"{"nested":{"deeper":[[[]]]}}"#, #"{"esc":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#, "\"caf\u{e9} \u{1F600}\"",
    ])
    func acceptsWhatFoundationAccepts(text: String) throws {
        let ours = try #require(JSONValue.parse(Array(text.utf8)), "rejected \(text)")
        let reference = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == reference)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "[01]", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "tru", "nulls", #"{"a" 1}"#, #"{a:1}"#,
        "'x'", #""unterminated"#, "\"tab\there\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "[1] [2]", "// c\n1",
        "1e400", #"{"dup":1,"dup":2}"#,
    ])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(JSONValue.parse(Array(text.utf8)) == nil as JSONValue?, "accepted \(text)")
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(JSONValue.parse([0x22, 0xff, 0x22]) == nil as JSONValue?, "invalid UTF-8 is never repaired")
        #expect(JSONValue.parse([0x22, 0xc3, 0x22]) == nil as JSONValue?, "truncated sequence")
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(JSONValue.parse(Array(deep.utf8)) == nil as JSONValue?, "deep nesting is refused, not a stack overflow")
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(JSONValue.parse(Array(fine.utf8)) != nil as JSONValue?)
    }

    @Test func roundTripsCanonicalOutput() throws {
        let value: JSONValue = ["b": [1, "two", ["three": nil]], "a": "\u{1}quote\"", "n": .number(1.5)]
        #expect(JSONValue.parse(value.canonicalBytes()) == value)
    }
}

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
        _ = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        #expect(JSONValue.parse(ours.canonicalBytes()) == ours)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "[01]", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "tru", "nulls", #"{"a" 1}"#, #"{a:1}"#,
        "'x'", #""unterminated"#, "\"tab\there\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "[1] [2]", "// c\n1",
        #"{"dup":1,"dup":2}"#, "0x1F", "1_000", "01.5", "-.5", "1e+", "--1",
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
        let value: JSONValue = ["b": [1, "two", ["three": nil]], "a": "\u{1}quote\"", "n": 1.5]
        #expect(JSONValue.parse(value.canonicalBytes()) == value)
    }

    /// Numbers come back exactly as written: never through `Double` (Vault keeps `json.Number`).
    @Test(arguments: [
        "12345678901234567", "123456789012345678901234567890", "-0", "1e400", "-1E-400", "0.1000000000000000055511151231257827",
        "3.141592653589793238462643383279", "9007199254740993", "-9223372036854775809", "1.0", "2e3", "0", "-0.0",
    ])
    func numbersKeepTheirLiteralText(literal: String) throws {
        let document = #"{"n":"# + literal + "}"
        let value = try #require(JSONValue.parse(Array(document.utf8)))
        #expect(value["n"] == .number(try #require(JSONNumber(literal: literal))))
        #expect(String(decoding: value.canonicalBytes(), as: UTF8.self) == document)
        #expect(String(decoding: value.prettyBytes(), as: UTF8.self).contains(literal))
    }

    @Test func integersAreExactOrAbsent() throws {
        #expect(JSONNumber(literal: "9223372036854775807")?.int64Value == Int64.max)
        #expect(JSONNumber(literal: "9223372036854775808")?.int64Value == nil, "past Int64 is not an integer, not a trap")
        #expect(JSONNumber(literal: "1e400")?.int64Value == nil)
        #expect(JSONNumber(literal: "1e400")?.doubleValue == nil, "not finite")
        #expect(JSONNumber(literal: "2e3")?.int64Value == 2000)
        #expect(JSONNumber(literal: "1.5")?.int64Value == nil)
        #expect(JSONNumber(literal: "+1") == nil && JSONNumber(literal: "01") == nil && JSONNumber(literal: "1.") == nil)
        #expect(JSONNumber(Double.nan) == nil && JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(3.0)?.literal == "3" && JSONNumber(0.5)?.literal == "0.5")
    }

    /// Every client number, however large, is a clear refusal, never an overflow trap.
    @Test(arguments: [
        "106751991167301d", "9223372036854775807s", "9223372036854775807", "99999999999999999999", "3650001d", "-1s", "+5m", "1.5h", "",
        "d", "5x", "1 d",
    ])
    func oversizedOrMalformedDurationsAreRefused(text: String) {
        #expect(Timestamp.parseDuration(text) == nil, "accepted \(text)")
    }

    @Test func durationsWithinOneHundredYears() {
        #expect(Timestamp.parseDuration("36500d") == Int64(36500 * 86400))
        #expect(Timestamp.parseDuration("90") == 90)
        #expect(Timestamp.parseDuration("15m") == 900)
        #expect(Timestamp.parseDuration("36501d") == nil)
        #expect(Timestamp.parse("9223372036854775807") == nil, "outside 1970-9999")
        #expect(Timestamp.parse("2026-11-24T06:42:00Z") == 1_795_502_520_000)
    }
}

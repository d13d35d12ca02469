import CofferCore
import Testing

@Suite("Leak scanner")
struct LeakScannerTests {
    static func token() -> String { AccessToken.generate() }

    @Test func findsEveryKindWhereItIs() {
        let live = APIKeyFormat.generate(.live)
        let admin = APIKeyFormat.generate(.admin)
        let publishable = APIKeyFormat.generate(.publishableTest)
        let token = Self.token()
        let secretID = LeakScanner.secretIDPrefix + String(Self.token().dropFirst(4))
        let text = """
            # config
            STRIPE_LIKE=\(live)
              "admin": "\(admin)", "browser": '\(publishable)'
            Authorization: Bearer \(token)
            \(secretID)
            """
        let findings = LeakScanner.scan(Array(text.utf8))
        #expect(findings.map(\.kind) == [.apiKey, .apiKey, .publishableKey, .token, .secretID])
        #expect(findings.map(\.value) == [live, admin, publishable, token, secretID])
        #expect(findings.map(\.line) == [2, 3, 3, 4, 5])
        #expect(findings.map(\.column) == [13, 13, 86, 23, 1])
        #expect(findings[0].masked == "sk_live_…" + String(live.suffix(4)))
        #expect(findings[3].masked == "cft_…" + String(token.suffix(4)))
        #expect(findings.allSatisfy { !$0.masked.contains($0.value.dropFirst(8).prefix(20)) }, "masks never show the random part")
        #expect(LeakScanner.tokenPrefix == AccessToken.prefix)
    }

    @Test func aWrongChecksumOrAWrongShapeIsNotReported() {
        let key = APIKeyFormat.generate(.test)
        let last = key.last == "a" ? "b" : "a"
        let typo = String(key.dropLast()) + last
        let token = Self.token()
        let noise = [
            typo, "x" + key, key + "Z", key.replacingOccurrences(of: "sk_test_", with: "sk_prod_"), "sk_test_" + String(repeating: "a", count: 49),
            String(token.dropLast()), token + "Q", "my" + token, "cft_" + String(repeating: "-", count: 43), "sk_live_", "cfs_",
        ]
        for text in noise { #expect(LeakScanner.scan(Array(text.utf8)).isEmpty, "\(text.prefix(12))… is not a credential") }
        // Boundaries other than word characters are fine.
        for wrapped in ["(\(key))", "key=\(key);", "\"\(key)\"", "\(key)\n", "-\(key)-", "\(key)\u{0}"] {
            #expect(LeakScanner.scan(Array(wrapped.utf8)).map(\.value) == [key])
        }
    }

    @Test func randomBytesAndBinaryAroundKeysAreScannedSafely() {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = APIKeyFormat.generate(.live)
        #expect(LeakScanner.scan(noise).filter { $0.kind == .apiKey }.isEmpty, "no key in noise (checksums rule out chance matches)")
        let embedded = Array(noise[..<1000]) + [0] + Array(key.utf8) + [0xff] + Array(noise[1000..<2000])
        #expect(LeakScanner.scan(embedded).contains { $0.value == key })
    }

    @Test func gitHistoryGivesTheAddedLinesWithCommitAndLine() {
        let key = APIKeyFormat.generate(.test)
        let token = Self.token()
        let log = """
            commit 1111111111111111111111111111111111111111
            diff --git a/config/app.env b/config/app.env
            new file mode 100644
            --- /dev/null
            +++ b/config/app.env
            @@ -0,0 +1,3 @@
            +NAME=demo
            +
            +KEY=\(key)
            commit 2222222222222222222222222222222222222222
            diff --git a/config/app.env b/config/app.env
            --- a/config/app.env
            +++ b/config/app.env
            @@ -3 +2,0 @@
            -KEY=\(key)
            diff --git a/notes.md b/notes.md
            --- a/notes.md
            +++ b/notes.md
            @@ -10,0 +11,2 @@
            +++ not a file header: \(token)
            +done
            diff --git a/image.png b/image.png
            Binary files a/image.png and b/image.png differ
            """
        var scanner = GitLogScanner()
        for line in Array(log.utf8).split(separator: 0x0A, omittingEmptySubsequences: false) { scanner.feed(line) }
        #expect(scanner.commits == 2)
        #expect(scanner.findings.count == 2, "the removal is not a finding")
        #expect(scanner.findings.first?.location == "111111111111:config/app.env:3:5")
        #expect(scanner.findings.last?.finding.value == token)
        #expect(scanner.findings.last?.location == "222222222222:notes.md:11:23", "an added line starting with ++ stays a line of notes.md")
    }
}

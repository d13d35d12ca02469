import CofferTestSupport
import Testing

@testable import CofferCore

@Suite("Tokens, hashing, roles")
struct TokenAndRoleTests {
    @Test func tokenFormat() {
        let token = AccessToken.generate()
        #expect(token.hasPrefix("cft_"))
        #expect(AccessToken.looksValid(token))
        #expect(AccessToken.generate() != token)
        #expect(!AccessToken.looksValid("cft_short"))
        #expect(!AccessToken.looksValid("hvs.CAESIJ" + String(repeating: "a", count: 40)))
        #expect(!AccessToken.looksValid("cft_" + String(repeating: "!", count: 43)))
    }

    @Test func base62RoundTripsLength() {
        #expect(Base62.encode([0xff, 0xff], minLength: 0) == "H31")
        #expect(Base62.encode(0, minLength: 6) == "000000")
        #expect(Base62.encode(61, minLength: 1) == "z")
        #expect(Base62.encode(SecureRandom.bytes(32), minLength: 43).count == 43)
    }

    @Test func hasherIsKeyed() {
        let a = CredentialHasher(keyBytes: [UInt8](repeating: 1, count: 32))
        let b = CredentialHasher(keyBytes: [UInt8](repeating: 2, count: 32))
        #expect(a.hash("cft_x") == a.hash("cft_x"))
        #expect(a.hash("cft_x") != b.hash("cft_x"))
        #expect(a.hash("cft_x") != a.hash("cft_y"))
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
    }

    @Test(arguments: [
        (Role.viewer, Role.Action.readSecrets, true), (.viewer, .writeSecrets, false), (.viewer, .readAudit, false),
        (.modifier, .writeSecrets, true), (.modifier, .manageKeyring, false), (.modifier, .readAudit, false),
        (.auditor, .readAudit, true), (.auditor, .readSecrets, false), (.auditor, .createTokens, false),
        (.admin, .manageTenants, true), (.admin, .readAudit, true),
    ])
    func roleMatrix(role: Role, action: Role.Action, allowed: Bool) {
        #expect(role.allows(action) == allowed)
    }

    @Test func grantRules() {
        #expect(Role.admin.canGrant(.auditor))
        #expect(!Role.modifier.canGrant(.admin))
        #expect(!Role.modifier.canGrant(.auditor))
        #expect(!Role.viewer.canGrant(.modifier))
        #expect(!Role.auditor.canGrant(.viewer))
    }

    @Test func tokenUsability() {
        var record = TokenRecord(
            accessor: "a", tenantID: "t", hash: [], role: .viewer, displayName: "x", createdAt: 0, expiresAt: 1000, parentAccessor: nil,
            ttlSeconds: 1)
        #expect(record.isUsable(at: 999))
        #expect(!record.isUsable(at: 1000))
        record.expiresAt = nil
        record.revokedAt = 5
        #expect(!record.isUsable(at: 6))
    }

    @Test func environmentReferencePolicy() {
        let policy = EnvReferencePolicy(patterns: ["PAYMENTS_*", "DB_PASSWORD", "COFFER_*"], environment: ["PAYMENTS_KEY": "k"])
        #expect(policy.referencedName("$PAYMENTS_KEY") == "PAYMENTS_KEY")
        #expect(policy.referencedName("$DB_PASSWORD") == "DB_PASSWORD")
        #expect(policy.referencedName("$DB_PASSWORD2") == nil)
        #expect(policy.referencedName("$COFFER_ROOT_KEY") == nil, "the server's own variables are never resolvable")
        #expect(policy.referencedName("$VAULT_TOKEN") == nil)
        #expect(policy.referencedName("PAYMENTS_KEY") == nil)
        #expect(policy.referencedName("$payments_key") == nil)
        #expect(EnvReferencePolicy.disabled.referencedName("$PAYMENTS_KEY") == nil)
    }

    @Test func pathNormalisation() throws {
        #expect(try SecretService.normalize("/app/db/") == "app/db")
        for bad in ["", "/", "a//b", "a/../b", "./a", "a\u{0}b", String(repeating: "x", count: 600)] {
            expectError(.invalidRequest) { _ = try SecretService.normalize(bad) }
        }
    }

    @Test func timestampsAndDurations() {
        #expect(Timestamp.rfc3339(0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(1_795_503_440_123) == "2026-11-24T06:57:20.123Z")
        #expect(Timestamp.parseDuration("30m") == 1800)
        #expect(Timestamp.parseDuration("2d") == 172_800)
        #expect(Timestamp.parseDuration("15") == 15)
        #expect(Timestamp.parseDuration("-1s") == nil)
        #expect(Timestamp.parseDuration("abc") == nil)
    }
}

@Suite("Audit chain (pure)")
struct AuditChainTests {
    static func record(_ operation: String) -> AuditRecord {
        AuditRecord(
            time: 1, actor: .anonymous, operation: operation, resourceType: "kv", resourceID: "p", clientIP: "", userAgent: "", requestID: "r",
            status: 200, errorCode: "", request: ["data": ["k": "hmac-sha256:00"]])
    }

    @Test func canonicalFormEndsWithItsPosition() {
        let canonical = AuditChain.canonical(tenantID: "T1", sequence: 42, record: Self.record("kv.write"))
        #expect(String(decoding: canonical, as: UTF8.self).hasSuffix(",\"sequence\":42,\"tenant\":\"T1\"}"))
        #expect(String(decoding: canonical, as: UTF8.self).hasPrefix("{\"record\":{"))
    }

    @Test func verifierFollowsTheChainAndCatchesAnEntryFromElsewhere() {
        let first = AuditChain.append(tenantID: "T1", after: 0, previousHash: AuditChain.genesis, record: Self.record("a"))
        let second = AuditChain.append(tenantID: "T1", after: 1, previousHash: first.entryHash, record: Self.record("b"))
        var verifier = AuditVerifier(tenantID: "T1")
        verifier.feed(first)
        verifier.feed(second)
        #expect(verifier.current.ok && verifier.current.lastSequence == 2 && verifier.current.headHash == second.entryHash)

        // Same bytes and a correct hash, but written for another tenant's chain.
        let foreign = AuditChain.append(tenantID: "T2", after: 0, previousHash: AuditChain.genesis, record: Self.record("a"))
        var relabelled = foreign
        relabelled.tenantID = "T1"
        var other = AuditVerifier(tenantID: "T1")
        other.feed(relabelled)
        #expect(other.current.failure?.reason == "entry content names another position")
    }
}

@Suite("Canonical JSON")
struct CanonicalJSONTests {
    @Test func sortedKeysEscapesAndNumbers() {
        let value: JSONValue = ["b": 1, "a": ["z": nil, "y": [true, 1.5, -3]], "request_id": "r", "request": "q\"\\\n\u{1}é/"]
        let text = String(decoding: value.canonicalBytes(), as: UTF8.self)
        #expect(text == #"{"a":{"y":[true,1.5,-3],"z":null},"b":1,"request":"q\"\\\n\u0001é/","request_id":"r"}"#)
        #expect(JSONValue.parse(value.canonicalBytes()) == value, "Foundation parses it back to the same value")
        #expect(String(decoding: JSONValue.int(1_795_503_440_123).canonicalBytes(), as: UTF8.self) == "1795503440123")
    }
}

@Suite("Audit redaction")
struct AuditRedactionTests {
    let redactor = AuditRedactor(key: .init(size: .bits256))

    @Test func secretsUnderParameterLikeNamesAreStillHashed() {
        let body: JSONValue = [
            "data": ["name": "secret-1", "version": "secret-2", "reason": "secret-3", "nested": ["type": "secret-4"], "list": ["secret-5"]],
            "custom_metadata": ["owner": "secret-6"], "options": ["cas": 3], "versions": [1, 2], "role": "viewer", "name": "team-a",
            "input": "secret-7",
        ]
        let redacted = redactor.redact(body)
        let text = String(decoding: redacted.canonicalBytes(), as: UTF8.self)
        for index in 1...7 { #expect(!text.contains("secret-\(index)"), "secret-\(index) must not appear") }
        #expect(redacted["data"]?["name"]?.stringValue == redactor.hash("secret-1"))
        #expect(redacted["options"]?["cas"] == 3 && redacted["versions"] == [1, 2])
        #expect(redacted["role"] == "viewer" && redacted["name"] == "team-a", "Coffer's own top-level parameters stay readable")
    }

    @Test func aClearKeyHoldingAnObjectIsHashedInside() {
        let redacted = redactor.redact(["name": ["inner": "secret"], "scopes": [["x": "secret"]]])
        #expect(!String(decoding: redacted.canonicalBytes(), as: UTF8.self).contains("secret\""))
    }
}

@Suite("Credential hasher")
struct CredentialHasherTests {
    @Test func matchesRFC4231TestCase2AndStaysReusable() {
        // RFC 4231 §4.3: key "Jefe", data "what do ya want for nothing?".
        let hasher = CredentialHasher(keyBytes: Array("Jefe".utf8))
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        for _ in 0..<3 {
            #expect(hasher.hash("what do ya want for nothing?").map { String(format: "%02x", $0) }.joined() == expected)
        }
        #expect(hasher.hash("sk_test_a") != hasher.hash("sk_test_b"))
    }
}

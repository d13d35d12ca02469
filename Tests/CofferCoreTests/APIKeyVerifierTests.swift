import Testing

@testable import CofferCore

@Suite("API key verification decisions")
struct APIKeyVerifierTests {
    static let key = APIKeyFormat.generate(.live)

    static func record(
        tenant: String = "t1", expiresAt: Int64? = nil, revokedAt: Int64? = nil, cidrs: [String] = [],
        scopes: [String] = ["kv:read:payments/*", "keys:verify"]
    ) -> APIKeyRecord {
        APIKeyRecord(
            id: "key_1", tenantID: tenant, hash: [1], displayPrefix: APIKeyFormat.displayPrefix(key), kind: .live, name: "n", scopes: scopes,
            createdAt: 0, expiresAt: expiresAt, revokedAt: revokedAt, allowedCIDRs: cidrs)
    }

    static func run(
        _ record: APIKeyRecord?, now: Int64 = 1_000, ip: String? = "10.1.2.3",
        required: [String] = ["kv:read:payments/card"]
    ) -> APIKeyVerifier.Outcome {
        APIKeyVerifier.evaluate(
            record: record, tenantID: "t1", now: now, clientIP: ip,
            required: required.compactMap(APIKeyVerifier.Requirement.init))
    }

    @Test func eachCodeInItsPlace() {
        #expect(Self.run(Self.record()).code == .valid)
        #expect(Self.run(nil).code == .notFound)
        #expect(Self.run(Self.record(tenant: "t2")).code == .notFound, "another tenant's key does not exist for this caller")
        #expect(Self.run(Self.record(revokedAt: 1_000)).code == .revoked, "revocation holds from its instant")
        #expect(Self.run(Self.record(revokedAt: 1_001)).code == .valid)
        #expect(Self.run(Self.record(expiresAt: 1_000)).code == .expired)
        #expect(Self.run(Self.record(expiresAt: 1_001)).code == .valid)
        #expect(Self.run(Self.record(cidrs: ["10.0.0.0/8"])).code == .valid)
        #expect(Self.run(Self.record(cidrs: ["192.168.0.0/16"])).code == .forbiddenIP)
        #expect(Self.run(Self.record(cidrs: ["10.0.0.0/8"]), ip: nil).code == .forbiddenIP, "an allow-list needs an address")
        #expect(Self.run(Self.record(), required: ["kv:write:payments/card"]).code == .insufficientScope)
        #expect(Self.run(Self.record(), required: ["kv:read:hr/salaries"]).code == .insufficientScope)
        #expect(Self.run(Self.record(revokedAt: 1, cidrs: ["192.168.0.0/16"])).code == .revoked, "revocation wins over later checks")
    }
}

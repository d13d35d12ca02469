import CofferCore
import CofferTestSupport
import Testing

@Suite("Identity rules: lockouts, password hashes, JWT claims")
struct IdentityRulesTests {
    @Test func lockoutsCountWithinTheWindowAndLockAtTheThreshold() {
        let policy = LockoutPolicy(threshold: 3, durationMillis: 10_000, counterResetMillis: 60_000)
        var state = policy.recordingFailure(nil, now: 1_000)
        #expect(state == LockoutState(failures: 1, windowStart: 1_000))
        state = policy.recordingFailure(state, now: 2_000)
        #expect(policy.lockedUntil(state, now: 2_000) == nil)
        let third = policy.recordingFailure(state, now: 3_000)
        #expect(third.lockedUntil == 13_000 && policy.becameLocked(from: state, to: third, now: 3_000))
        #expect(policy.lockedUntil(third, now: 12_999) == 13_000 && policy.lockedUntil(third, now: 13_000) == nil)
        #expect(policy.recordingFailure(third, now: 5_000) == third, "failures while locked change nothing")
        // After the lockout, or after the window, counting starts again.
        #expect(policy.recordingFailure(third, now: 13_000) == LockoutState(failures: 1, windowStart: 13_000))
        #expect(policy.recordingFailure(state, now: 62_000) == LockoutState(failures: 1, windowStart: 62_000))
        // A clock that went backwards never extends a window.
        #expect(policy.recordingFailure(state, now: 500) == LockoutState(failures: 1, windowStart: 500))
        let off = LockoutPolicy(threshold: 0, durationMillis: 10_000, counterResetMillis: 60_000)
        #expect(off.recordingFailure(LockoutState(failures: 99, windowStart: 0), now: 1).lockedUntil == nil)
    }

    @Test(arguments: [(1, 0), (2, 250), (3, 500), (4, 1_000), (5, 2_000), (6, 2_000), (1_000, 2_000)])
    func failedLoginsAreDelayedProgressively(failures: Int, millis: Int64) {
        #expect(LockoutPolicy.delayMillis(failures: failures) == millis)
    }

    @Test func passwordHashesAreArgon2idPHCStringsComparedInConstantTime() throws {
        let hash = try PasswordHash.make("correct horse battery staple")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(try PasswordHash.verify("correct horse battery staple", against: hash))
        #expect(try !PasswordHash.verify("correct horse battery stapler", against: hash))
        let once = try PasswordHash.make("same")
        let twice = try PasswordHash.make("same")
        #expect(once != twice, "fresh salt each time")
        // RFC 9106-style parameters carried in the string are honoured (here: a cheaper set).
        let light = try PasswordHash.make("pw", parameters: Argon2id(memoryKiB: 64, iterations: 1, parallelism: 1))
        #expect(light.contains("m=64,t=1,p=1"))
        #expect(try PasswordHash.verify("pw", against: light))
        for tampered in [
            "", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", hash.replacingOccurrences(of: "m=19456", with: "m=1"),
            hash.replacingOccurrences(of: "t=2", with: "t=999"), String(hash.dropLast(30)), hash + "$extra",
        ] {
            #expect(throws: CofferError(.storageCorrupt, "a stored password hash is malformed")) { try PasswordHash.verify("x", against: tampered) }
        }
    }

    static let now: Int64 = 1_800_000_000_000

    static func role() -> JWTRole {
        var role = JWTRole(name: "ci", settings: LoginTokenSettings(role: nil))
        role.boundAudiences = ["coffer"]
        role.groupsClaim = "/realm_access/roles"
        role.roleMap = ["viewers": .viewer, "admins": .admin]
        role.claimMappings = ["email": "email"]
        return role
    }

    static func claims(_ extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var claims: [String: JSONValue] = [
            "iss": "https://idp", "sub": "alice", "aud": "coffer", "exp": .int(now / 1000 + 60), "email": "a@example.com",
            "realm_access": ["roles": ["viewers", "other"]],
        ]
        for (key, value) in extra { claims[key] = value }
        return claims
    }

    @Test func verifiedClaimsGrantTheMappedRoleAndMetadata() throws {
        let grant = try Self.role().grant(claims: Self.claims(), issuer: "https://idp", tenantName: "root", now: Self.now)
        #expect(grant.subject == "alice" && grant.role == .viewer && grant.metadata["email"] == "a@example.com" && grant.metadata["role"] == "ci")
        let admin = try Self.role().grant(
            claims: Self.claims(["realm_access": ["roles": ["viewers", "admins"]]]), issuer: "https://idp", tenantName: "root", now: Self.now)
        #expect(admin.role == .admin)
        // Dotted paths name nested claims too, when no claim has the dotted name itself.
        var dotted = Self.role()
        dotted.groupsClaim = "realm_access.roles"
        #expect(try dotted.grant(claims: Self.claims(), issuer: "", tenantName: "root", now: Self.now).role == .viewer)
    }

    struct Flaw: Sendable, CustomTestStringConvertible {
        let name: String
        let change: [String: JSONValue]
        let code: ErrorCode
        var testDescription: String { name }
    }

    static let seconds = now / 1000
    static let flaws: [Flaw] = [
        Flaw(name: "expired beyond both leeways", change: ["exp": .int(seconds - 211)], code: .jwtExpired),
        Flaw(name: "nbf too far ahead", change: ["nbf": .int(seconds + 211)], code: .jwtExpired),
        Flaw(name: "issued in the future", change: ["iat": .int(seconds + 61)], code: .jwtInvalid),
        Flaw(name: "no exp", change: ["exp": .null], code: .jwtInvalid),
        Flaw(name: "exp not a number", change: ["exp": .string("soon")], code: .jwtInvalid),
        Flaw(name: "wrong issuer", change: ["iss": .string("https://evil")], code: .jwtInvalid),
        Flaw(name: "wrong audience", change: ["aud": .array([.string("other")])], code: .jwtInvalid),
        Flaw(name: "no subject", change: ["sub": .null], code: .jwtInvalid),
        Flaw(name: "subject with a control character", change: ["sub": .string("al\u{1}ice")], code: .jwtInvalid),
        Flaw(name: "no group maps", change: ["realm_access": .object(["roles": .array([.string("interns")])])], code: .permissionDenied),
        Flaw(name: "groups not strings", change: ["realm_access": .object(["roles": .array([.int(1)])])], code: .permissionDenied),
    ]

    @Test(arguments: flaws)
    func everyFlawInTheClaimsIsRefusedWithItsCode(flaw: Flaw) {
        let (name, change, code) = (flaw.name, flaw.change, flaw.code)
        var claims = Self.claims()
        for (key, value) in change {
            if value == .null { claims[key] = nil } else { claims[key] = value }
        }
        #expect(throws: CofferError.self, "\(name)") {
            do {
                _ = try Self.role().grant(claims: claims, issuer: "https://idp", tenantName: "root", now: Self.now)
            } catch let error as CofferError {
                #expect(error.code == code, "\(name): \(error)")
                throw error
            }
        }
    }

    @Test func boundClaimsSubjectsAndTenantsAreChecked() throws {
        var role = Self.role()
        role.boundClaims = ["email": ["*@example.com", "ops@partner.org"]]
        role.boundClaimsType = "glob"
        role.boundSubject = "alice"
        role.tenantClaim = "tenant"
        let good = Self.claims(["tenant": "acme"])
        #expect(try role.grant(claims: good, issuer: "", tenantName: "acme", now: Self.now).subject == "alice")
        expectError(.jwtInvalid) { try role.grant(claims: good, issuer: "", tenantName: "root", now: Self.now) }
        expectError(.jwtInvalid) {
            try role.grant(claims: Self.claims(["tenant": "acme", "email": "a@evil.com"]), issuer: "", tenantName: "acme", now: Self.now)
        }
        expectError(.jwtInvalid) {
            try role.grant(claims: Self.claims(["tenant": "acme", "sub": "bob"]), issuer: "", tenantName: "acme", now: Self.now)
        }
        role.boundClaimsType = "string"
        expectError(.jwtInvalid, "a glob is literal text in string mode") {
            try role.grant(claims: good, issuer: "", tenantName: "acme", now: Self.now)
        }
        // A JWT with an audience is refused by a role that binds none.
        var open = Self.role()
        open.boundAudiences = []
        expectError(.jwtInvalid) { try open.grant(claims: Self.claims(), issuer: "", tenantName: "root", now: Self.now) }
        #expect(
            try open.grant(claims: Self.claims(["aud": .null]).filter { $0.value != .null }, issuer: "", tenantName: "root", now: Self.now).role
                == .viewer)
        // Extreme numbers are compared, never added to.
        #expect(try Self.role().grant(claims: Self.claims(["exp": .int(Int64.max)]), issuer: "", tenantName: "root", now: Self.now).role == .viewer)
    }

    @Test func jwtConfigurationsNeedOneKeySourceAndAsymmetricAlgorithms() {
        var config = JWTAuthConfig()
        expectError(.invalidRequest) { try config.validate() }
        config.jwksURL = "https://idp/jwks"
        #expect(throws: Never.self) { try config.validate() }
        config.oidcDiscoveryURL = "https://idp"
        expectError(.invalidRequest) { try config.validate() }
        config.oidcDiscoveryURL = ""
        for alg in ["HS256", "none", "HS512", "rs256"] {
            config.supportedAlgorithms = [alg]
            expectError(.invalidRequest, "\(alg)") { try config.validate() }
        }
        config.jwksURL = "file:///etc/passwd"
        config.supportedAlgorithms = []
        expectError(.invalidRequest) { try config.validate() }
    }
}

@Suite("Identity rules: certificate roles and globs")
struct CertRoleRulesTests {
    @Test(arguments: [
        ("*.internal", "billing.internal", true), ("*.internal", "internal", false), ("a*b*c", "axxbyyc", true), ("a*b*c", "acb", false),
        ("*", "", true), ("", "", true), ("exact", "exact", true), ("exact", "Exact", false), ("**", "anything", true), ("x*", "x", true),
    ])
    func globsMatchAsVaultDoes(pattern: String, value: String, expected: Bool) {
        #expect(Glob.matches(pattern, value) == expected)
    }

    @Test func everyNonEmptyNameListNeedsAMatch() {
        var role = CertRole(name: "billing", certificate: "pem", settings: LoginTokenSettings(role: .viewer))
        var facts = CertificateFacts(commonName: "billing.internal")
        facts.dnsNames = ["billing.internal", "b.example.com"]
        facts.organizationalUnits = ["payments"]
        #expect(role.allows(facts), "no patterns: any certificate of the CA")
        role.allowedCommonNames = ["*.internal"]
        role.allowedDNSSANs = ["*.example.com"]
        role.allowedOrganizationalUnits = ["payments", "ops"]
        #expect(role.allows(facts))
        role.allowedEmailSANs = ["*@example.com"]
        #expect(!role.allows(facts), "an email pattern needs an email name")
        role.allowedEmailSANs = []
        facts.commonName = nil
        #expect(!role.allows(facts), "a common-name pattern needs a common name")
    }
}

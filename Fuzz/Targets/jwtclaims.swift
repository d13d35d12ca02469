/// Claims of a JWT whose signature verified (the issuer's, but any content): never a crash, and a
/// grant only names a role the role's configuration can give; also stored JWT-role and userpass
/// documents (read back from the database, so possibly altered) decode or fail closed, and round-trip.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let (first, second) = input.twoTexts
    _ = Glob.matches(first, second)
    if !first.contains("*") { require(Glob.matches(first, second) == first.utf8.elementsEqual(second.utf8), "a pattern without * is literal") }
    guard let value = JSONValue.parse(input.bytes) else { return 0 }
    if let role = try? JWTRole(name: "fuzz", document: value) {
        require((try? JWTRole(name: "fuzz", document: role.document)) == role, "a JWT role does not round-trip")
    }
    if let config = try? UserpassConfig(document: value) {
        require((try? UserpassConfig(document: config.document)) == config, "a userpass configuration does not round-trip")
    }
    guard let claims = value.objectValue else { return 0 }
    var role = JWTRole(name: "fuzz", settings: LoginTokenSettings(role: nil))
    role.boundAudiences = ["coffer"]
    role.boundClaims = ["email": ["*@example.com"]]
    role.boundClaimsType = "glob"
    role.groupsClaim = "/realm_access/roles"
    role.roleMap = ["admins": .admin, "readers": .viewer]
    role.claimMappings = ["email": "email", "name": "name"]
    role.tenantClaim = "tenant"
    for now: Int64 in [0, 1_800_000_000_000, .max / 2] {
        guard let grant = try? role.grant(claims: claims, issuer: "https://idp", tenantName: "acme", now: now) else { continue }
        require(grant.role == .admin || grant.role == .viewer, "a grant names a role the map does not")
        require(!grant.subject.isEmpty && grant.subject.utf8.count <= 256, "a grant's subject is empty or long")
    }
    return 0
}

import CofferCore
import Foundation
import HTTPTypes
import Hummingbird

/// Vault's transit engine under `/v1/<mount>/` for every transit mount of the tenant (`transit/` is
/// built in): keys (create, read, list, config, rotate, trim, delete), encrypt, decrypt, rewrap,
/// datakey, sign, verify, hmac, hash and random, with `batch_input`. Keys of other mounts are stored
/// as `<mount>/<name>`, which is also their scope target.
public struct TransitController: Sendable {
    let runtime: CofferRuntime
    let body: BodyReader
    var auth: Authenticator { runtime.authenticator }
    var transit: TransitService { runtime.transit }

    /// Creates the controller.
    public init(runtime: CofferRuntime) {
        self.runtime = runtime
        self.body = BodyReader(limit: runtime.configuration.maxBodyBytes)
    }

    /// Registers the routes.
    public func addRoutes(to router: Router<CofferRequestContext>) {
        router.get("/v1/:mount/keys") { request, context in try await list(request, context) }
        router.on("/v1/:mount/keys", method: .list) { request, context in try await list(request, context) }
        router.post("/v1/:mount/keys/:name") { request, context in try await create(request, context) }
        router.put("/v1/:mount/keys/:name") { request, context in try await create(request, context) }
        router.get("/v1/:mount/keys/:name") { request, context in try await read(request, context) }
        router.delete("/v1/:mount/keys/:name") { request, context in try await delete(request, context) }
        router.post("/v1/:mount/keys/:name/config") { request, context in try await config(request, context) }
        router.post("/v1/:mount/keys/:name/rotate") { request, context in try await rotate(request, context) }
        router.post("/v1/:mount/keys/:name/trim") { request, context in try await trim(request, context) }
        router.post("/v1/:mount/encrypt/:name") { request, context in try await encrypt(request, context) }
        router.post("/v1/:mount/decrypt/:name") { request, context in try await decrypt(request, context) }
        router.post("/v1/:mount/rewrap/:name") { request, context in try await rewrap(request, context) }
        router.post("/v1/:mount/datakey/:kind/:name") { request, context in try await datakey(request, context) }
        for suffix in ["", "/:algorithm"] {
            router.post("/v1/:mount/hash\(suffix)") { request, context in try await hash(request, context) }
        }
        for suffix in ["", "/:first", "/:first/:second"] {
            router.post("/v1/:mount/random\(suffix)") { request, context in try await random(request, context) }
        }
        // Key material never leaves Coffer: export and backup answer why, restore has nothing to restore.
        for path in ["/v1/:mount/export/:type/:name", "/v1/:mount/export/:type/:name/:version"] {
            router.get(RouterPath(path)) { _, _ -> Response in
                throw CofferError(.invalidRequest, "transit key export is not supported: key material never leaves Coffer")
            }
        }
        router.get("/v1/:mount/backup/:name") { _, _ -> Response in
            throw CofferError(
                .invalidRequest, "transit key backup is not supported: key material never leaves Coffer; back up the database and root key")
        }
        for path in ["/v1/:mount/restore", "/v1/:mount/restore/:name"] {
            router.post(RouterPath(path)) { _, _ -> Response in
                throw CofferError(
                    .invalidRequest, "transit key restore is not supported: Coffer never exports keys, so there is no backup to restore")
            }
        }
        for suffix in ["", "/:algorithm"] {
            router.post("/v1/:mount/sign/:name\(suffix)") { request, context in try await sign(request, context) }
            router.post("/v1/:mount/verify/:name\(suffix)") { request, context in try await verify(request, context) }
            router.post("/v1/:mount/hmac/:name\(suffix)") { request, context in try await hmac(request, context) }
        }
    }

    /// The start of every per-key route: the key name from the path, the authorised caller, and the audit description.
    /// Authorises on the key's stored name, then checks a transit engine is mounted at the path.
    func begin(_ request: Request, _ context: CofferRequestContext, _ action: Role.Action, _ operation: String) async throws -> (Caller, String) {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, action, target: name)
        context.work.describe(operation, "transit_key", name)
        try await requireMount(caller, context)
        return (caller, name)
    }

    /// The key's stored name: its name for `transit/`, `<mount>/<name>` for another transit mount.
    func name(_ context: CofferRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), TransitKey.isValidName(name) else {
            throw CofferError(.notFound, "no transit key of this name")
        }
        return TransitKey.storedName(mount: Self.mount(context), name: name)
    }

    static func mount(_ context: CofferRequestContext) -> String { Mount.trim(context.parameters.get("mount") ?? "") }

    /// `ROUTE_NOT_FOUND` unless a transit engine is mounted at the request's path in the caller's tenant.
    func requireMount(_ caller: Caller, _ context: CofferRequestContext) async throws {
        _ = try await runtime.mounts.transitMount(tenant: caller.tenant, path: Self.mount(context))
    }

    // MARK: - Parameters

    /// Vault parameters Coffer accepts only at their defaults, with those defaults.
    static let defaults: [String: Set<JSONValue>] = [
        "nonce": [""], "convergent_encryption": [false], "type": [""], "partial_failure_response_code": [400],
        "prehashed": [false], "signature_algorithm": [""], "marshaling_algorithm": ["asn1"], "salt_length": ["auto"], "context": [""],
        "key_size": [0], "managed_key_name": [""], "managed_key_id": [""], "allow_plaintext_backup": [false], "exportable": [false],
    ]
    static let encryptFields: Set<String> = ["plaintext", "context", "associated_data", "key_version", "reference"]
    static let decryptFields: Set<String> = ["ciphertext", "context", "associated_data", "reference"]
    static let rewrapFields: Set<String> = ["ciphertext", "context", "associated_data", "key_version", "reference"]
    static let signFields: Set<String> = ["input", "key_version", "hash_algorithm", "reference"]
    static let verifyFields: Set<String> = ["input", "hash_algorithm", "signature", "hmac", "reference"]
    static let hmacFields: Set<String> = ["input", "key_version", "algorithm", "reference"]

    /// The Vault parameters accepted at their defaults next to `item`'s: signing and verifying take no
    /// derivation context in Coffer; encryption does.
    static func defaults(for item: Set<String>) -> [String: Set<JSONValue>] {
        var defaults = Self.defaults
        if item.contains("plaintext") || item.contains("ciphertext") { defaults.removeValue(forKey: "context") }
        return defaults
    }

    /// Checks one operation's fields (the request's, or one `batch_input` item's).
    static func admitItem(_ fields: [String: JSONValue], _ item: Set<String>) throws(CofferError) {
        try fields.admit(item.union(["batch_input", "name"]), defaultsOnly: defaults(for: item))
    }

    /// Checks a request's top-level fields (`batch_input` and the per-item fields) and returns them.
    static func admitted(_ fields: [String: JSONValue], _ item: Set<String>, context: CofferRequestContext) throws -> [String: JSONValue] {
        try admitItem(fields, item)
        // Bytes, not Swift's canonical equivalence (U+212A KELVIN SIGN is not "K").
        if let named = try fields.string("name"), !named.utf8.elementsEqual((context.parameters.get("name") ?? "").utf8) {
            throw CofferError(.invalidRequest, "name in the body differs from the key in the path")
        }
        return fields
    }

    // MARK: - Keys

    func list(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let caller = try await auth.authorize(request, context, .readTransit)
        context.work.describe("transit.list", "transit_key", "")
        try await requireMount(caller, context)
        let names = try await transit.names(tenant: caller.tenant, mount: Self.mount(context))
        guard !names.isEmpty else { throw CofferError(.notFound, "no transit keys") }
        return VaultResponse.data(["keys": .array(names.map(JSONValue.string))], context: context)
    }

    func create(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .manageTransit, "transit.create")
        let fields = try await body.object(request, context)
        try fields.admit(
            ["type", "derived", "exportable", "deletion_allowed", "auto_rotate_period", "overlap_period", "expires_at"], defaultsOnly: Self.defaults)
        let typeName = try fields.string("type") ?? "aes256-gcm96"
        guard let type = TransitKeyType(rawValue: typeName) else {
            throw CofferError(.invalidRequest, "type must be one of \(TransitKeyType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var options = TransitService.KeyOptions()
        options.derived = try fields.bool("derived") ?? false
        options.exportable = try fields.bool("exportable") ?? false
        options.deletionAllowed = try fields.bool("deletion_allowed") ?? false
        options.autoRotatePeriodSeconds = try fields.duration("auto_rotate_period") ?? 0
        options.overlapSeconds = try fields.duration("overlap_period") ?? 0
        options.expiresAt = try Self.time(fields, "expires_at")
        let key = try await transit.create(tenant: caller.tenant, name: name, type: type, options: options, in: context.work)
        return VaultResponse.data(try describe(key, tenant: caller.tenant), context: context)
    }

    func read(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .readTransit, "transit.read")
        return VaultResponse.data(try describe(try await transit.key(tenant: caller.tenant, name: name), tenant: caller.tenant), context: context)
    }

    func delete(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .manageTransit, "transit.delete")
        try await transit.delete(tenant: caller.tenant, name: name, in: context.work)
        return VaultResponse.noContent()
    }

    /// Fields `keys/<name>/config` takes (hvac's `update_key_configuration` sends these).
    static let configFields: Set<String> = [
        "min_decryption_version", "min_encryption_version", "deletion_allowed", "auto_rotate_period", "overlap_period", "expires_at", "exportable",
        "allow_plaintext_backup",
    ]

    func config(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .manageTransit, "transit.config")
        let fields = try await body.object(request, context)
        try fields.admit(Self.configFields, outcome: "the key was not changed")
        if try fields.bool("allow_plaintext_backup") == true {
            throw CofferError(.invalidRequest, "allow_plaintext_backup is not supported: key material never leaves Coffer")
        }
        let minDecryption = try fields.int("min_decryption_version")
        let minEncryption = try fields.int("min_encryption_version")
        let deletionAllowed = try fields.bool("deletion_allowed")
        let autoRotate = try fields.duration("auto_rotate_period")
        let overlap = try fields.duration("overlap_period")
        let expiresAt = try Self.time(fields, "expires_at")
        if try fields.bool("exportable") == true {
            throw CofferError(.invalidRequest, "exportable keys are not supported: key material never leaves Coffer")
        }
        let change = TransitService.ConfigChange(
            minDecryptionVersion: minDecryption, minEncryptionVersion: minEncryption, deletionAllowed: deletionAllowed,
            autoRotatePeriodSeconds: autoRotate, overlapSeconds: overlap,
            expiresAt: fields["expires_at"] == .null ? .some(nil) : expiresAt.map { .some($0) })
        let key = try await transit.configure(tenant: caller.tenant, name: name, change, in: context.work)
        return VaultResponse.data(try describe(key, tenant: caller.tenant), context: context)
    }

    func rotate(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .manageTransit, "transit.rotate")
        let key = try await transit.rotate(tenant: caller.tenant, name: name, in: context.work)
        context.work.addDetails(["latest_version": String(key.latestVersion)])
        return VaultResponse.data(try describe(key, tenant: caller.tenant), context: context)
    }

    func trim(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .manageTransit, "transit.trim")
        let fields = try await body.object(request, context)
        try fields.admit(["min_available_version"])
        guard let minimum = try fields.int("min_available_version") else {
            throw CofferError(.invalidRequest, "min_available_version is required")
        }
        let key = try await transit.trim(tenant: caller.tenant, name: name, minAvailableVersion: minimum, in: context.work)
        return VaultResponse.data(try describe(key, tenant: caller.tenant), context: context)
    }

    // MARK: - Operations

    func encrypt(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .transitEncrypt, "transit.encrypt")
        let fields = try Self.admitted(try await body.object(request, context), Self.encryptFields, context: context)
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.encryptFields)
            let plaintext = try Self.base64(item, "plaintext", required: true) ?? []
            let (ciphertext, version) = try await transit.encrypt(
                tenant: caller.tenant, name: name, plaintext: plaintext, aad: try Self.base64(item, "associated_data") ?? [],
                context: try Self.base64(item, "context"), version: try Self.keyVersion(item))
            return ["ciphertext": .string(ciphertext), "key_version": .int(version)]
        }
    }

    func decrypt(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .transitDecrypt, "transit.decrypt")
        let fields = try Self.admitted(try await body.object(request, context), Self.decryptFields, context: context)
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.decryptFields)
            guard let ciphertext = try item.string("ciphertext") else { throw CofferError(.invalidRequest, "'ciphertext' is required") }
            let (plaintext, _) = try await transit.decrypt(
                tenant: caller.tenant, name: name, ciphertext: ciphertext, aad: try Self.base64(item, "associated_data") ?? [],
                context: try Self.base64(item, "context"))
            return ["plaintext": .string(Base64.encode(plaintext))]
        }
    }

    func rewrap(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let caller = try await auth.authorize(request, context, .transitDecrypt, target: name)
        // One authentication (and one rate-limit unit); rewrapping also needs the right to encrypt.
        guard caller.may(.transitEncrypt, target: name) else {
            throw CofferError(.permissionDenied, "permission denied: rewrap needs encrypt and decrypt")
        }
        context.work.describe("transit.rewrap", "transit_key", name)
        try await requireMount(caller, context)
        let fields = try Self.admitted(try await body.object(request, context), Self.rewrapFields, context: context)
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.rewrapFields)
            guard let ciphertext = try item.string("ciphertext") else { throw CofferError(.invalidRequest, "'ciphertext' is required") }
            let aad = try Self.base64(item, "associated_data") ?? []
            let derivation = try Self.base64(item, "context")
            let (plaintext, _) = try await transit.decrypt(tenant: caller.tenant, name: name, ciphertext: ciphertext, aad: aad, context: derivation)
            let (rewrapped, version) = try await transit.encrypt(
                tenant: caller.tenant, name: name, plaintext: plaintext, aad: aad, context: derivation, version: try Self.keyVersion(item))
            return ["ciphertext": .string(rewrapped), "key_version": .int(version)]
        }
    }

    func datakey(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let name = try name(context)
        let kind = context.parameters.get("kind") ?? ""
        guard kind == "plaintext" || kind == "wrapped" else { throw CofferError(.invalidRequest, "datakey type must be plaintext or wrapped") }
        let caller = try await auth.authorize(request, context, .transitEncrypt, target: name)
        context.work.describe("transit.datakey", "transit_key", name, ["kind": kind])
        try await requireMount(caller, context)
        let fields = try await body.object(request, context)
        try fields.admit(["context", "associated_data", "bits"], defaultsOnly: ["nonce": [""]])
        let bits = try fields.int("bits") ?? 256
        guard [128, 256, 512].contains(bits) else { throw CofferError(.invalidRequest, "bits must be 128, 256 or 512") }
        let material = SecureRandom.bytes(bits / 8)
        let (ciphertext, version) = try await transit.encrypt(
            tenant: caller.tenant, name: name, plaintext: material, aad: try Self.base64(fields, "associated_data") ?? [],
            context: try Self.base64(fields, "context"))
        var data: [String: JSONValue] = ["ciphertext": .string(ciphertext), "key_version": .int(version)]
        if kind == "plaintext" { data["plaintext"] = .string(Base64.encode(material)) }
        return VaultResponse.data(.object(data), context: context)
    }

    func sign(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .transitSign, "transit.sign")
        let fields = try Self.admitted(try await body.object(request, context), Self.signFields, context: context)
        try Self.checkHash(fields, context)
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.signFields)
            let input = try Self.base64(item, "input", required: true) ?? []
            let (signature, version) = try await transit.sign(tenant: caller.tenant, name: name, input: input, version: try Self.keyVersion(item))
            return ["signature": .string(signature), "key_version": .int(version)]
        }
    }

    func verify(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .transitVerify, "transit.verify")
        let fields = try Self.admitted(try await body.object(request, context), Self.verifyFields, context: context)
        try Self.checkHash(fields, context)
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.verifyFields)
            let input = try Self.base64(item, "input", required: true) ?? []
            let valid: Bool
            if let mac = try item.string("hmac") {
                valid = try await transit.verifyHMAC(tenant: caller.tenant, name: name, input: input, hmac: mac)
            } else {
                guard let signature = try item.string("signature") else { throw CofferError(.invalidRequest, "'signature' or 'hmac' is required") }
                valid = try await transit.verify(tenant: caller.tenant, name: name, input: input, signature: signature)
            }
            // A signature that does not verify is an answer, not an error; the audit entry says so (the
            // signature_failure alert reads it).
            if !valid { context.work.addDetails(["valid": "false"]) }
            return ["valid": .bool(valid)]
        }
    }

    func hmac(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let (caller, name) = try await begin(request, context, .transitHMAC, "transit.hmac")
        let fields = try Self.admitted(try await body.object(request, context), Self.hmacFields, context: context)
        let algorithm = try context.parameters.get("algorithm") ?? fields.string("algorithm") ?? "sha2-256"
        guard algorithm == "sha2-256" else { throw CofferError(.invalidRequest, "only sha2-256 HMACs are supported") }
        return try await Self.batch(fields, context: context) { item in
            try Self.admitItem(item, Self.hmacFields)
            let input = try Self.base64(item, "input", required: true) ?? []
            let (mac, version) = try await transit.hmac(tenant: caller.tenant, name: name, input: input, version: try Self.keyVersion(item))
            return ["hmac": .string(mac), "key_version": .int(version)]
        }
    }

    // MARK: - Helpers

    /// Runs `one` for the request, or for each `batch_input` item (Vault's `batch_results`; per-item errors
    /// carry their code; the request fails only if every item did).
    static func batch(
        _ fields: [String: JSONValue], context: CofferRequestContext, _ one: ([String: JSONValue]) async throws -> [String: JSONValue]
    ) async throws -> Response {
        guard let value = fields["batch_input"], value != .null else {
            return VaultResponse.data(.object(try await one(fields)), context: context)
        }
        guard case .array(let items) = value, !items.isEmpty, items.count <= 1000 else {
            throw CofferError(.invalidRequest, "batch_input must be an array of 1-1000 objects")
        }
        var results: [JSONValue] = []
        var failures = 0
        for item in items {
            guard let object = item.objectValue else { throw CofferError(.invalidRequest, "batch_input must be an array of objects") }
            // Vault echoes each item's `reference` in its result so callers can match them up.
            let reference = object["reference"]?.stringValue
            do {
                var result = try await one(object)
                if let reference { result["reference"] = .string(reference) }
                results.append(.object(result))
            } catch {
                let failure = ErrorStatus.normalize(error)
                failures += 1
                var result: [String: JSONValue] = ["error": .string(failure.message), "code": .string(failure.code.rawValue)]
                if let reference { result["reference"] = .string(reference) }
                results.append(.object(result))
            }
        }
        let status: HTTPResponse.Status = failures == items.count ? .badRequest : .ok
        return VaultResponse.data(["batch_results": .array(results)], context: context, status: status)
    }

    static func base64(_ fields: [String: JSONValue], _ key: String, required: Bool = false) throws(CofferError) -> [UInt8]? {
        guard let text = try fields.string(key) else {
            if required { throw CofferError(.invalidRequest, "'\(key)' is required (base64)") }
            return nil
        }
        guard let data = Base64.decode(text) else { throw CofferError(.invalidRequest, "'\(key)' must be base64") }
        return Array(data)
    }

    static func keyVersion(_ fields: [String: JSONValue]) throws(CofferError) -> Int? {
        guard let version = try fields.int("key_version"), version != 0 else { return nil }
        guard version > 0 else { throw CofferError(.invalidRequest, "key_version must be positive") }
        return version
    }

    static func time(_ fields: [String: JSONValue], _ key: String) throws(CofferError) -> Int64? {
        guard let text = try fields.string(key) else { return nil }
        guard let millis = Timestamp.parse(text) else { throw CofferError(.invalidRequest, "'\(key)' must be an RFC 3339 time") }
        return millis
    }

    /// The start of an operation that uses no key (`hash`, `random`): authorised, audited, mounted, and
    /// its body holding only `fields`.
    func keyless(_ request: Request, _ context: CofferRequestContext, _ operation: String, fields: Set<String>) async throws -> [String: JSONValue] {
        let caller = try await auth.authorize(request, context, .readTransit)
        context.work.describe(operation, "transit", "")
        try await requireMount(caller, context)
        let object = try await body.object(request, context)
        try object.admit(fields)
        return object
    }

    /// `hash[/<algorithm>] {input, algorithm?, format?}` → `{sum}` (no key involved).
    func hash(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let fields = try await keyless(request, context, "transit.hash", fields: ["input", "algorithm", "format"])
        let name = try context.parameters.get("algorithm") ?? fields.string("algorithm") ?? "sha2-256"
        guard let digest = TransitDigest(rawValue: name) else {
            if TransitDigest.refused.contains(name) {
                throw CofferError(.invalidRequest, "\(name) is not offered by Coffer's crypto library; use sha2-256 or stronger")
            }
            throw CofferError(.invalidRequest, "algorithm must be one of \(TransitDigest.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let input = try Self.base64(fields, "input", required: true) else { throw CofferError(.invalidRequest, "input is required") }
        let sum = digest.digest(input)
        return VaultResponse.data(["sum": .string(try Self.format(sum, fields))], context: context)
    }

    /// `random[/<source>][/<bytes>] {bytes?, format?, source?}` → `{random_bytes}`: 1–131072 bytes from the platform CSPRNG.
    func random(_ request: Request, _ context: CofferRequestContext) async throws -> Response {
        let fields = try await keyless(request, context, "transit.random", fields: ["bytes", "format", "source"])
        var source = try fields.string("source") ?? "platform"
        var count = try fields.int("bytes") ?? 32
        for segment in [context.parameters.get("first"), context.parameters.get("second")].compactMap({ $0 }) {
            if let number = Int(segment) { count = number } else { source = segment }
        }
        guard ["platform", "all"].contains(source) else {
            throw CofferError(.invalidRequest, "source must be platform or all (Coffer has no separate seal entropy source)")
        }
        guard (1...131_072).contains(count) else { throw CofferError(.invalidRequest, "bytes must be between 1 and 131072") }
        return VaultResponse.data(["random_bytes": .string(try Self.format(SecureRandom.bytes(count), fields))], context: context)
    }

    /// Bytes as the request's `format` asks: `base64` (default) or `hex`.
    static func format(_ bytes: [UInt8], _ fields: [String: JSONValue]) throws -> String {
        switch try fields.string("format") ?? "base64" {
        case "base64": return Base64.encode(bytes)
        case "hex": return bytes.hexString
        default: throw CofferError(.invalidRequest, "format must be base64 or hex")
        }
    }

    static func checkHash(_ fields: [String: JSONValue], _ context: CofferRequestContext) throws(CofferError) {
        var hash = context.parameters.get("algorithm")
        if hash == nil { hash = try fields.string("hash_algorithm") }
        guard hash == nil || hash == "sha2-256" else { throw CofferError(.invalidRequest, "only sha2-256 is supported") }
        if try fields.bool("prehashed") == true { throw CofferError(.invalidRequest, "prehashed input is not supported") }
    }

    func describe(_ key: TransitKey, tenant: Tenant) throws -> JSONValue {
        let now = runtime.clock.nowMillis
        var versions: [String: JSONValue] = [:]
        let publicKeys = key.type.isAsymmetric ? try transit.publicKeys(key) : [:]
        var states: [String: JSONValue] = [:]
        for version in key.versions {
            let label = String(version.version)
            states[label] = .string(key.state(of: version, now: now))
            if let publicKey = publicKeys[version.version] {
                versions[label] = [
                    "creation_time": .string(Timestamp.rfc3339(version.createdAt)), "name": .string(key.type.rawValue),
                    "public_key": .string(Base64.encode(publicKey)),
                ]
            } else {
                versions[label] = .int(version.createdAt / 1000)
            }
        }
        return [
            "name": .string(key.shortName), "type": .string(key.type.rawValue), "keys": .object(versions), "latest_version": .int(key.latestVersion),
            "min_available_version": .int(key.versions.map(\.version).min() ?? 0), "min_decryption_version": .int(key.minDecryptionVersion),
            "min_encryption_version": .int(key.minEncryptionVersion), "deletion_allowed": .bool(key.deletionAllowed),
            "exportable": .bool(key.exportable), "derived": .bool(key.derived), "auto_rotate_period": .int(key.autoRotatePeriodSeconds),
            "supports_encryption": .bool(key.type.encrypts), "supports_decryption": .bool(key.type.encrypts),
            "supports_signing": .bool(key.type.signs), "supports_derivation": .bool(key.derived), "allow_plaintext_backup": false,
            "overlap_period": .int(key.overlapSeconds), "expires_at": key.expiresAt.map { .string(Timestamp.rfc3339($0)) } ?? .null,
            "version_states": .object(states),
            "refusals": .object(transit.refusalCounts(tenantID: tenant.id, name: key.name).mapValues { .int($0) }),
        ]
    }
}

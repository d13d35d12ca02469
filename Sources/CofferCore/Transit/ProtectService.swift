import Foundation

/// A named protection policy: which transit keys protect payloads, and how.
public struct ProtectPolicy: Sendable, Codable, Hashable {
    /// How payloads are protected.
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Signed, readable.
        case sign
        /// Encrypted (AEAD).
        case encrypt
        /// Signed, then the payload and its signature encrypted.
        case signThenEncrypt = "sign-then-encrypt"

        var signs: Bool { self != .encrypt }
        var encrypts: Bool { self != .sign }
    }

    /// Policy name, e.g. `BANK-TRANSFER-PROD-001`.
    public var name: String
    /// Mode.
    public var mode: Mode
    /// Transit key that encrypts (modes `encrypt`, `sign-then-encrypt`).
    public var encryptionKey: String?
    /// Transit key that signs (modes `sign`, `sign-then-encrypt`).
    public var signingKey: String?
    /// Pinned encryption key version (default: the key's latest).
    public var encryptionKeyVersion: Int?
    /// Pinned signing key version (default: the key's latest).
    public var signingKeyVersion: Int?
    /// Keys this policy signed with before (payloads they protected still unprotect until those keys retire).
    public var previousSigningKeys: [String] = []
    /// Keys this policy encrypted with before.
    public var previousEncryptionKeys: [String] = []

    enum CodingKeys: String, CodingKey {
        case name, mode, encryptionKey, signingKey, encryptionKeyVersion, signingKeyVersion, previousSigningKeys, previousEncryptionKeys
    }

    /// Decodes a stored policy (the key histories may be absent).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        mode = try container.decode(Mode.self, forKey: .mode)
        encryptionKey = try container.decodeIfPresent(String.self, forKey: .encryptionKey)
        signingKey = try container.decodeIfPresent(String.self, forKey: .signingKey)
        encryptionKeyVersion = try container.decodeIfPresent(Int.self, forKey: .encryptionKeyVersion)
        signingKeyVersion = try container.decodeIfPresent(Int.self, forKey: .signingKeyVersion)
        previousSigningKeys = try container.decodeIfPresent([String].self, forKey: .previousSigningKeys) ?? []
        previousEncryptionKeys = try container.decodeIfPresent([String].self, forKey: .previousEncryptionKeys) ?? []
    }

    /// Creates a policy.
    public init(
        name: String, mode: Mode, encryptionKey: String? = nil, signingKey: String? = nil, encryptionKeyVersion: Int? = nil,
        signingKeyVersion: Int? = nil
    ) {
        self.name = name
        self.mode = mode
        self.encryptionKey = encryptionKey
        self.signingKey = signingKey
        self.encryptionKeyVersion = encryptionKeyVersion
        self.signingKeyVersion = signingKeyVersion
    }
}

/// `protect` / `unprotect` by named policy. A protected payload is one self-describing string:
///
///     cfp1.<header>.<body>[.<signature>]          (base64url without padding)
///
/// The header is canonical JSON naming the policy (`p`), mode (`m`), content type (`ct`), and the
/// keys, versions and algorithms used (`sk`/`sv`/`sa`, `ek`/`ev`/`ea`). Every byte is bound:
/// - `sign`: body = payload; signature over `"cfp1." ‖ header ‖ "." ‖ payload`.
/// - `encrypt`: body = AEAD(payload) with AAD `"cfp1." ‖ header`.
/// - `sign-then-encrypt`: body = AEAD(u32 signature length ‖ signature ‖ payload) with AAD `"cfp1." ‖ header`,
///   the signature as in `sign`.
/// Any change yields `SIGNATURE_INVALID` for signing policies and `DECRYPTION_FAILED` for `encrypt`;
/// integrity is checked before the key's lifecycle, so a forged version number is a bad signature,
/// not a retired key.
public struct ProtectService: Sendable {
    let transit: TransitService
    let store: any TransitStore
    let clock: any CofferClock

    /// Creates the service.
    public init(transit: TransitService, store: any TransitStore, clock: any CofferClock) {
        self.transit = transit
        self.store = store
        self.clock = clock
    }

    static let prefix = "cfp1"

    /// The transit key a policy names as `role`; `NOT_FOUND` names the parameter and the key.
    private func referencedKey(tenant: Tenant, name: String, role: String) async throws -> TransitKey {
        do {
            return try await transit.key(tenant: tenant, name: name)
        } catch let error as CofferError where error.code == .notFound {
            guard TransitKey.isValidName(name) else { throw CofferError(.notFound, "\(role): no transit key of this name") }
            throw CofferError(.notFound, "\(role): no transit key named '\(name)' (create it first: coffer transit create \(name) --type …)")
        }
    }

    /// Validates and stores a policy: its keys must exist and fit the mode. Returns it as stored (with its key history).
    @discardableResult
    public func put(tenant: Tenant, _ policy: ProtectPolicy, in work: UnitOfWork) async throws -> ProtectPolicy {
        guard TransitKey.isValidName(policy.name) else { throw CofferError(.invalidRequest, "policy names are 1-128 of A-Z a-z 0-9 - _ .") }
        if policy.mode.signs {
            guard let name = policy.signingKey else {
                throw CofferError(.invalidRequest, "mode \(policy.mode.rawValue) needs signing_key (a transit key of type ed25519, ml-dsa-65, …)")
            }
            let key = try await referencedKey(tenant: tenant, name: name, role: "signing_key")
            guard key.type.signs else {
                throw CofferError(.invalidRequest, "signing_key must be a signing key (ed25519, ecdsa-p256, ml-dsa-65, ed25519-ml-dsa-65)")
            }
            if let pinned = policy.signingKeyVersion, key.version(pinned) == nil {
                throw CofferError(.invalidRequest, "signing_key_version does not exist")
            }
        }
        if policy.mode.encrypts {
            guard let name = policy.encryptionKey else {
                throw CofferError(
                    .invalidRequest, "mode \(policy.mode.rawValue) needs encryption_key (a transit key of type aes256-gcm96, x-wing, …)")
            }
            let key = try await referencedKey(tenant: tenant, name: name, role: "encryption_key")
            guard key.type.encrypts, !key.derived else {
                throw CofferError(
                    .invalidRequest, "encryption_key must be a non-derived encryption key (aes256-gcm96, chacha20-poly1305, ml-kem-768, x-wing)")
            }
            if let pinned = policy.encryptionKeyVersion, key.version(pinned) == nil {
                throw CofferError(.invalidRequest, "encryption_key_version does not exist")
            }
        }
        // Pointing a policy at new keys keeps the old ones readable (key transition: overlap, then retire).
        var policy = policy
        if let existing = try? await self.policy(tenant: tenant, name: policy.name) {
            policy.previousSigningKeys = Self.history(existing.previousSigningKeys, existing.signingKey, current: policy.signingKey)
            policy.previousEncryptionKeys = Self.history(existing.previousEncryptionKeys, existing.encryptionKey, current: policy.encryptionKey)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try await store.putPolicy(
            tenantID: tenant.id, name: policy.name, document: String(decoding: try encoder.encode(policy), as: UTF8.self), at: clock.nowMillis,
            in: work)
        return policy
    }

    /// Deletes a policy, or `POLICY_NOT_FOUND`.
    public func delete(tenant: Tenant, name: String, in work: UnitOfWork) async throws {
        guard TransitKey.isValidName(name), try await store.deletePolicy(tenantID: tenant.id, name: name, in: work) else {
            throw CofferError(.policyNotFound, "no protection policy of this name")
        }
    }

    static func history(_ earlier: [String], _ replaced: String?, current: String?) -> [String] {
        var names = earlier
        if let replaced, replaced != current, !names.contains(replaced) { names.append(replaced) }
        return names.filter { $0 != current }
    }

    /// A policy, or `POLICY_NOT_FOUND`.
    public func policy(tenant: Tenant, name: String) async throws -> ProtectPolicy {
        guard TransitKey.isValidName(name), let document = try await store.policy(tenantID: tenant.id, name: name) else {
            throw CofferError(.policyNotFound, "no protection policy of this name")
        }
        // A stored policy that does not decode (edited, or from a newer version) is refused, never read as absent.
        guard let policy = try? JSONDecoder().decode(ProtectPolicy.self, from: Data(document.utf8)), policy.name == name else {
            throw CofferError(.storageCorrupt, "the stored protection policy is not one this version of Coffer can read")
        }
        return policy
    }

    /// Protects `payload` (`isJSON` records whether it is canonical JSON) under the policy.
    public func protect(tenant: Tenant, policyName: String, payload: [UInt8], isJSON: Bool) async throws -> String {
        let policy = try await self.policy(tenant: tenant, name: policyName)
        var header: [String: JSONValue] = ["v": 1, "p": .string(policy.name), "m": .string(policy.mode.rawValue), "ct": isJSON ? "json" : "bytes"]
        var signer: (TransitKey, TransitKey.Version)?
        var encrypter: (TransitKey, TransitKey.Version)?
        if policy.mode.signs, let name = policy.signingKey {
            let key = try await transit.key(tenant: tenant, name: name)
            let version = try transit.writable(key, policy.signingKeyVersion, tenant: tenant)
            header["sk"] = .string(name)
            header["sv"] = .int(version.version)
            header["sa"] = .string(key.type.rawValue)
            signer = (key, version)
        }
        if policy.mode.encrypts, let name = policy.encryptionKey {
            let key = try await transit.key(tenant: tenant, name: name)
            let version = try transit.writable(key, policy.encryptionKeyVersion, tenant: tenant)
            header["ek"] = .string(name)
            header["ev"] = .int(version.version)
            header["ea"] = .string(key.type.rawValue)
            encrypter = (key, version)
        }
        let headerText = Base64.encodeURL(JSONValue.object(header).canonicalBytes())
        let bound = Array("\(Self.prefix).\(headerText)".utf8)
        var signature: [UInt8] = []
        if let (key, version) = signer {
            signature = try TransitCipher.sign(bound + Array(".".utf8) + payload, type: key.type, material: version.material)
        }
        guard let (key, version) = encrypter else {
            return "\(Self.prefix).\(headerText).\(Base64.encodeURL(payload)).\(Base64.encodeURL(signature))"
        }
        var inner = payload
        if signer != nil {
            let length = UInt32(signature.count)
            inner = [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + signature + payload
        }
        let body = try TransitCipher.encrypt(inner, type: key.type, material: version.material, aad: bound, context: nil)
        return "\(Self.prefix).\(headerText).\(Base64.encodeURL(body))"
    }

    /// Recovers a payload protected under `policyName`: (payload, whether it is JSON).
    public func unprotect(tenant: Tenant, policyName: String, protected: String) async throws -> (payload: [UInt8], isJSON: Bool) {
        let requested = try await self.policy(tenant: tenant, name: policyName)
        let parts = protected.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4, parts[0] == Self.prefix, let headerBytes = Base64.decodeURL(parts[1]),
            case .object(let header)? = JSONValue.parse(headerBytes), JSONValue.object(header).canonicalBytes() == headerBytes,
            let policyInHeader = header["p"]?.stringValue, let modeText = header["m"]?.stringValue,
            let mode = ProtectPolicy.Mode(rawValue: modeText), header["v"] == 1
        else { throw Self.tampered(requested.mode) }
        // Integrity is checked with the keys of the policy the header names (if it exists), else the requested one.
        let policy = policyInHeader == requested.name ? requested : ((try? await self.policy(tenant: tenant, name: policyInHeader)) ?? requested)
        guard mode == policy.mode, mode == requested.mode || policy.name != requested.name else { throw Self.tampered(requested.mode) }
        let bound = Array("\(Self.prefix).\(parts[1])".utf8)
        let isJSON = header["ct"] == "json"
        var payload: [UInt8]
        var lifecycle: [(TransitKey, Int)] = []
        if mode.encrypts {
            guard parts.count == 3, let name = header["ek"]?.stringValue,
                name == policy.encryptionKey || policy.previousEncryptionKeys.contains(name),
                let number = header["ev"]?.intValue, let body = Base64.decodeURL(parts[2]),
                let key = try? await transit.key(tenant: tenant, name: name), let version = key.version(number),
                header["ea"]?.stringValue == key.type.rawValue
            else { throw Self.tampered(requested.mode) }
            do {
                payload = try TransitCipher.decrypt(body, type: key.type, material: version.material, aad: bound, context: nil)
            } catch {
                throw Self.tampered(requested.mode)
            }
            lifecycle.append((key, number))
        } else {
            guard parts.count == 4, let body = Base64.decodeURL(parts[2]) else { throw Self.tampered(requested.mode) }
            payload = body
        }
        if mode.signs {
            var signature: [UInt8]
            if mode.encrypts {
                guard payload.count >= 4 else { throw Self.tampered(requested.mode) }
                let length = Int(UInt32(payload[0]) << 24 | UInt32(payload[1]) << 16 | UInt32(payload[2]) << 8 | UInt32(payload[3]))
                guard length <= payload.count - 4 else { throw Self.tampered(requested.mode) }
                signature = Array(payload[4..<(4 + length)])
                payload = Array(payload[(4 + length)...])
            } else {
                guard let decoded = Base64.decodeURL(parts[3]) else { throw Self.tampered(requested.mode) }
                signature = decoded
            }
            guard let name = header["sk"]?.stringValue, name == policy.signingKey || policy.previousSigningKeys.contains(name),
                let number = header["sv"]?.intValue,
                let key = try? await transit.key(tenant: tenant, name: name), let version = key.version(number),
                header["sa"]?.stringValue == key.type.rawValue,
                TransitCipher.verify(signature, message: bound + Array(".".utf8) + payload, type: key.type, material: version.material)
            else { throw Self.tampered(requested.mode) }
            lifecycle.append((key, number))
        }
        // Authentic. Now the keys' lifecycle, then whether it belongs to the policy asked for.
        for (key, number) in lifecycle {
            _ = try transit.readable(key, number, tenant: tenant)
        }
        guard policy.name == requested.name else {
            throw CofferError(.policyMismatch, "this payload was protected under another policy")
        }
        return (payload, isJSON)
    }

    static func tampered(_ mode: ProtectPolicy.Mode) -> CofferError {
        mode.signs
            ? CofferError(.signatureInvalid, "the protected payload is not authentic: it was altered or is not from this policy", isClientInput: true)
            : CofferError(
                .decryptionFailed, "the protected payload could not be decrypted: it was altered or is not from this policy", isClientInput: true)
    }
}

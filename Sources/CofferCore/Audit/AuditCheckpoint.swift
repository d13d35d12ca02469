import Crypto
import Foundation

/// A signed statement "tenant T's chain had head hash H at sequence N at time t", to keep elsewhere.
public struct AuditCheckpoint: Sendable, Hashable, Codable {
    /// Tenant.
    public var tenantID: String
    /// Sequence of the head.
    public var sequence: Int64
    /// Head hash.
    public var headHash: [UInt8]
    /// Signing time, ms.
    public var time: Int64
    /// Ed25519 signature over ``signedBytes``.
    public var signature: [UInt8]
    /// The signer's public key (raw, 32 bytes).
    public var publicKey: [UInt8]

    /// Creates a checkpoint.
    public init(tenantID: String, sequence: Int64, headHash: [UInt8], time: Int64, signature: [UInt8], publicKey: [UInt8]) {
        self.tenantID = tenantID
        self.sequence = sequence
        self.headHash = headHash
        self.time = time
        self.signature = signature
        self.publicKey = publicKey
    }

    /// The bytes the signature covers.
    public static func signedBytes(tenantID: String, sequence: Int64, headHash: [UInt8], time: Int64) -> [UInt8] {
        Array("coffer-audit-checkpoint-v1\n\(tenantID)\n\(sequence)\n\(headHash.hexString)\n\(time)".utf8)
    }

    /// Signs a checkpoint.
    public static func sign(
        tenantID: String, sequence: Int64, headHash: [UInt8], time: Int64, key: Curve25519.Signing.PrivateKey
    ) throws -> AuditCheckpoint {
        let signature = try key.signature(for: signedBytes(tenantID: tenantID, sequence: sequence, headHash: headHash, time: time))
        return AuditCheckpoint(
            tenantID: tenantID, sequence: sequence, headHash: headHash, time: time, signature: Array(signature),
            publicKey: Array(key.publicKey.rawRepresentation))
    }

    /// Whether the signature is valid for `trustedKey` (or the embedded key when none is given).
    public func verifySignature(trustedKey: [UInt8]? = nil) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: trustedKey ?? publicKey) else { return false }
        return key.isValidSignature(signature, for: Self.signedBytes(tenantID: tenantID, sequence: sequence, headHash: headHash, time: time))
    }

    /// JSON form for export: hashes and keys in hex.
    public var json: JSONValue {
        [
            "tenant_id": .string(tenantID), "sequence": .int(sequence), "head_hash": .string(headHash.hexString),
            "time": .string(Timestamp.rfc3339(time)),
            "time_ms": .int(time), "signature": .string(signature.hexString), "public_key": .string(publicKey.hexString), "algorithm": "ed25519",
        ]
    }

    /// Parses the JSON form.
    public init?(json: JSONValue) {
        guard let tenant = json["tenant_id"]?.stringValue, let sequence = json["sequence"]?.intValue,
            let head = json["head_hash"]?.stringValue.flatMap([UInt8].init(hex:)), let time = json["time_ms"]?.intValue,
            let signature = json["signature"]?.stringValue.flatMap([UInt8].init(hex:)),
            let key = json["public_key"]?.stringValue.flatMap([UInt8].init(hex:))
        else { return nil }
        self.init(tenantID: tenant, sequence: Int64(sequence), headHash: head, time: Int64(time), signature: signature, publicKey: key)
    }
}

extension Array where Element == UInt8 {
    /// Lower-case hex.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses lower- or upper-case hex; `nil` if malformed.
    public init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        self = out
    }
}

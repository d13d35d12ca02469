import CofferCore
import SwiftASN1
import X509

/// A certificate revocation list (RFC 5280 §5), parsed with SwiftASN1: its issuer, the serial numbers
/// it revokes, and what its signature covers. swift-certificates has no CRL type; the signature is
/// checked with the issuing CA's public key through swift-certificates.
struct RevocationList: Sendable {
    /// Who issued it.
    let issuer: DistinguishedName
    /// Revoked serial numbers, without leading zero bytes.
    let revoked: Set<[UInt8]>
    /// The signed part (TBSCertList, DER).
    let signedBytes: [UInt8]
    /// The signature algorithm.
    let algorithm: Certificate.SignatureAlgorithm
    /// The signature.
    let signature: [UInt8]

    /// The largest CRL accepted (bytes of PEM).
    static let maximumPEMBytes = 4 << 20

    /// Parses a PEM `X509 CRL`; `nil` for anything else.
    init?(pem: String) {
        guard pem.utf8.count <= Self.maximumPEMBytes, let document = try? PEMDocument(pemString: pem), document.discriminator == "X509 CRL" else {
            return nil
        }
        self.init(der: document.derBytes)
    }

    /// Parses a DER CertificateList; `nil` when it is not one, or uses an algorithm Coffer does not verify.
    init?(der: [UInt8]) {
        guard let parsed = try? Self.parse(der) else { return nil }
        self = parsed
    }

    private init(
        issuer: DistinguishedName, revoked: Set<[UInt8]>, signedBytes: [UInt8], algorithm: Certificate.SignatureAlgorithm, signature: [UInt8]
    ) {
        self.issuer = issuer
        self.revoked = revoked
        self.signedBytes = signedBytes
        self.algorithm = algorithm
        self.signature = signature
    }

    static func parse(_ der: [UInt8]) throws -> RevocationList {
        let root = try DER.parse(der)
        let (tbs, algorithmNode, signatureNode) = try DER.sequence(root, identifier: .sequence) { nodes in
            guard let tbs = nodes.next(), let algorithm = nodes.next(), let signature = nodes.next() else {
                throw ASN1Error.invalidASN1Object(reason: "a CertificateList has three parts")
            }
            return (tbs, algorithm, signature)
        }
        let oid = try DER.sequence(algorithmNode, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            while nodes.next() != nil {}
            return oid
        }
        guard let algorithm = Self.algorithms.first(where: { $0.0 == oid })?.1 else {
            throw ASN1Error.invalidASN1Object(reason: "unsupported CRL signature algorithm")
        }
        let signature = Array(try ASN1BitString(derEncoded: signatureNode).bytes)
        let (issuer, revoked) = try DER.sequence(tbs, identifier: .sequence) { nodes -> (DistinguishedName, Set<[UInt8]>) in
            var items: [ASN1Node] = []
            while let node = nodes.next() { items.append(node) }
            var index = 0
            if index < items.count, items[index].identifier == .integer { index += 1 }  // version
            index += 1  // the signature algorithm, repeated
            guard index < items.count else { throw ASN1Error.invalidASN1Object(reason: "no issuer") }
            let issuer = try DistinguishedName(derEncoded: items[index])
            index += 2  // issuer, thisUpdate
            guard index <= items.count else { throw ASN1Error.invalidASN1Object(reason: "no thisUpdate") }
            if index < items.count, items[index].identifier == .utcTime || items[index].identifier == .generalizedTime { index += 1 }
            var revoked: Set<[UInt8]> = []
            if index < items.count, items[index].identifier == .sequence, case .constructed(let entries) = items[index].content {
                for entry in entries {
                    let serial = try DER.sequence(entry, identifier: .sequence) { fields in
                        let serial = try ArraySlice<UInt8>(derEncoded: &fields)
                        while fields.next() != nil {}
                        return serial
                    }
                    revoked.insert(Self.normalised(serial))
                }
            }
            return (issuer, revoked)
        }
        return RevocationList(issuer: issuer, revoked: revoked, signedBytes: Array(tbs.encodedBytes), algorithm: algorithm, signature: signature)
    }

    /// The signature algorithms Coffer checks CRLs with.
    static let algorithms: [(ASN1ObjectIdentifier, Certificate.SignatureAlgorithm)] = [
        ([1, 2, 840, 113549, 1, 1, 11], .sha256WithRSAEncryption), ([1, 2, 840, 113549, 1, 1, 12], .sha384WithRSAEncryption),
        ([1, 2, 840, 113549, 1, 1, 13], .sha512WithRSAEncryption), ([1, 2, 840, 10045, 4, 3, 2], .ecdsaWithSHA256),
        ([1, 2, 840, 10045, 4, 3, 3], .ecdsaWithSHA384), ([1, 2, 840, 10045, 4, 3, 4], .ecdsaWithSHA512), ([1, 3, 101, 112], .ed25519),
    ]

    /// A serial number without leading zero bytes (DER adds one to keep a number positive).
    static func normalised(_ serial: some Collection<UInt8>) -> [UInt8] { Array(serial.drop { $0 == 0 }) }

    /// Whether `authority` (the CA named as issuer) signed this list.
    func isSigned(by authority: Certificate) -> Bool {
        authority.subject == issuer && authority.publicKey.isValidSignature(signature, for: signedBytes, signatureAlgorithm: algorithm)
    }
}

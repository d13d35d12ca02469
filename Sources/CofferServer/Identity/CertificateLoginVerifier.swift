import CofferCore
import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// Checks the TLS client certificates presented to `cert` auth methods with swift-certificates: the
/// chain to a role's trusted certificates under RFC 5280 at the server's clock, then the method's CRLs
/// (each used only if its issuer signed it), then reads the names the role's patterns look at.
struct CertificateLoginVerifier: CertificateChainVerifying {
    func verify(_ certificateDER: [UInt8], trusted: String, crls: [String], nowMillis: Int64) async throws -> CertificateFacts {
        guard let leaf = try? Certificate(derEncoded: certificateDER) else { throw CertificateRefusal("malformed") }
        guard let roots = try? GatewayCertificateVerifier.certificates(trusted), !roots.isEmpty else { throw CertificateRefusal("untrusted") }
        let now = Date(timeIntervalSince1970: Double(nowMillis) / 1000)
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(fixedExpiryValidationTime: now) }
        guard case .validCertificate(let chain) = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) else {
            // Say why when one of the trusted certificates did issue it: its validity is the problem.
            if roots.contains(where: { $0 == leaf || ($0.subject == leaf.issuer && $0.publicKey.isValidSignature(leaf.signature, for: leaf)) }) {
                if leaf.notValidAfter < now { throw CertificateRefusal("expired") }
                if leaf.notValidBefore > now { throw CertificateRefusal("not_yet_valid") }
            }
            throw CertificateRefusal("untrusted")
        }
        let serial = RevocationList.normalised(leaf.serialNumber.bytes)
        for pem in crls {
            guard let list = RevocationList(pem: pem), list.issuer == leaf.issuer, list.revoked.contains(serial) else { continue }
            // Only a list its issuer signed counts (the issuer is the next certificate of the chain).
            if chain.dropFirst().contains(where: { list.isSigned(by: $0) }) { throw CertificateRefusal("revoked") }
        }
        return Self.facts(leaf)
    }

    /// The names a role's patterns look at.
    static func facts(_ certificate: Certificate) -> CertificateFacts {
        let attributes = certificate.subject.flatMap { $0 }
        let text = { (attribute: RelativeDistinguishedName.Attribute) in String(describing: attribute.value) }
        var facts = CertificateFacts(commonName: attributes.first { $0.type == .RDNAttributeType.commonName }.map(text))
        facts.organizationalUnits = attributes.filter { $0.type == .RDNAttributeType.organizationalUnitName }.map(text)
        for name in (try? certificate.extensions.subjectAlternativeNames).flatMap({ $0 }).map(Array.init) ?? [] {
            switch name {
            case .dnsName(let value): facts.dnsNames.append(value)
            case .rfc822Name(let value): facts.emailAddresses.append(value)
            case .uniformResourceIdentifier(let value): facts.uris.append(value)
            default: break
            }
        }
        facts.serial = certificate.serialNumber.bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined(separator: ":")
        return facts
    }
}

import CofferCore
import Foundation
import NIOSSL
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// Checks TLS client certificates against gateway projects' mTLS profiles with swift-certificates:
/// the chain to the profile's CA bundle under RFC 5280 (validity at the server's clock included), then
/// the identity the profile reads from the certificate.
enum GatewayCertificateVerifier {
    /// Who a verified certificate names.
    struct Verified: Sendable {
        /// The profile's name in the project.
        let profile: String
        /// The profile.
        let client: GatewayCertificateClient
        /// The identity read from the certificate.
        let identity: String
    }

    /// The first profile (by name) whose CA vouches for `presented` now, and the identity it reads;
    /// `CERTIFICATE_INVALID` when none does, `PERMISSION_DENIED` when the identity is not allowed.
    static func verify(_ presented: NIOSSLCertificate, project: GatewayProject, nowMillis: Int64) async throws -> Verified {
        guard let leaf = try? Certificate(derEncoded: presented.toDERBytes()) else {
            throw CofferError(.certificateInvalid, "the client certificate cannot be parsed")
        }
        let now = Date(timeIntervalSince1970: Double(nowMillis) / 1000)
        for name in project.certificateClients.keys.sorted() {
            guard let client = project.certificateClients[name], let roots = try? certificates(client.caBundle), !roots.isEmpty else { continue }
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(fixedExpiryValidationTime: now) }
            guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) else { continue }
            guard let identity = identity(of: leaf, client.identity) else {
                throw CofferError(.certificateInvalid, "the client certificate has no \(client.identity.rawValue) to name its holder")
            }
            if let allowed = client.allowedIdentities, !allowed.contains(where: { $0.utf8.elementsEqual(identity.utf8) }) {
                throw CofferError(.permissionDenied, "permission denied: this certificate's identity may not call this project")
            }
            return Verified(profile: name, client: client, identity: identity)
        }
        throw CofferError(.certificateInvalid, "the client certificate is not issued by a CA this project trusts, or is not valid now")
    }

    /// The certificates of a PEM bundle.
    static func certificates(_ bundle: String) throws -> [Certificate] {
        try PEMDocument.parseMultiple(pemString: bundle).map { try Certificate(pemDocument: $0) }
    }

    /// The identity a profile reads from a certificate.
    static func identity(of certificate: Certificate, _ source: GatewayCertificateClient.Identity) -> String? {
        let value: String?
        switch source {
        case .subjectCN:
            value = certificate.subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.map { String(describing: $0.value) }
        case .sanDNS, .sanEmail, .sanURI:
            let names = (try? certificate.extensions.subjectAlternativeNames).flatMap { $0 }.map(Array.init) ?? []
            value =
                names.lazy.compactMap { name -> String? in
                    switch (source, name) {
                    case (.sanDNS, .dnsName(let text)), (.sanEmail, .rfc822Name(let text)), (.sanURI, .uniformResourceIdentifier(let text)): text
                    default: nil
                    }
                }.first
        }
        guard let value, (1...256).contains(value.utf8.count), value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            return nil
        }
        return value
    }

    /// Whether every mTLS profile's CA bundle parses (checked when a project is saved).
    static func checkBundles(_ project: GatewayProject) throws {
        for (name, client) in project.certificateClients {
            guard let roots = try? certificates(client.caBundle), !roots.isEmpty else {
                throw CofferError(.invalidRequest, "'mtls_clients.\(name).ca_bundle' holds no certificate that parses")
            }
        }
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// The HTTP clients the CLI uses: one per TLS setting, made once per process and never shut down
/// (the process ends with the command).
final class ClientTransport: Sendable {
    /// The process-wide instance.
    static let shared = ClientTransport()

    private let clients = Mutex<[String: HTTPClient]>([:])

    /// The client for `environment`'s trust settings: the system's trust store unless a CA file or
    /// folder is named; no verification when asked (with a warning on stderr, once). Connecting
    /// gives up after 5 s.
    func client(for environment: ClientEnvironment) throws -> HTTPClient {
        let key = "\(environment.usesTLS)|\(environment.caCertFile ?? "")|\(environment.caPath ?? "")|\(environment.skipVerify)"
        if let existing = clients.withLock({ $0[key] }) { return existing }
        var tls = TLSConfiguration.makeClientConfiguration()
        if !environment.usesTLS {
            // Plain HTTP: the TLS settings are unused.
        } else if environment.skipVerify {
            tls.certificateVerification = .none
            FileHandle.standardError.write(
                Data(
                    "coffer: warning: TLS certificate verification is off (VAULT_SKIP_VERIFY / --tls-skip-verify); anyone on the path can read this session\n"
                        .utf8))
        } else if environment.caCertFile != nil || environment.caPath != nil {
            tls.trustRoots = .certificates(try Self.authorities(file: environment.caCertFile, folder: environment.caPath))
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, timeout: .init(connect: .seconds(5), read: .seconds(30)))
        // One command, one request: a refused connection is reported at once, not retried until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        return clients.withLock { clients in
            if let existing = clients[key] {
                try? client.syncShutdown()
                return existing
            }
            clients[key] = client
            return client
        }
    }

    /// The certificates in a PEM file and in every `.pem`/`.crt` file of a folder; a file that cannot
    /// be read or holds no certificate is an error naming it.
    static func authorities(file: String?, folder: String?) throws -> [NIOSSLCertificate] {
        var paths: [String] = []
        if let file { paths.append(file) }
        if let folder {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
                throw CLIError("VAULT_CAPATH: cannot read the folder \(folder)")
            }
            paths += names.sorted().filter { $0.hasSuffix(".pem") || $0.hasSuffix(".crt") }.map { "\(folder)/\($0)" }
        }
        var certificates: [NIOSSLCertificate] = []
        for path in paths {
            guard FileManager.default.isReadableFile(atPath: path) else { throw CLIError("cannot read the CA certificate file \(path)") }
            guard let loaded = try? NIOSSLCertificate.fromPEMFile(path), !loaded.isEmpty else {
                throw CLIError("\(path) holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)")
            }
            certificates += loaded
        }
        guard !certificates.isEmpty else { throw CLIError("no CA certificates found in \(folder ?? file ?? "")") }
        return certificates
    }
}

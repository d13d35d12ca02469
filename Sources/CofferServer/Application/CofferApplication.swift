import CofferCore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// Assembles Coffer's Hummingbird application from a running ``CofferRuntime``.
public enum CofferApplication {
    /// The router with every controller and the hygiene middleware.
    public static func router(runtime: CofferRuntime, logger: Logger) -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        router.add(middleware: MetricsMiddleware(metrics: runtime.metrics))
        router.add(middleware: HygieneMiddleware(tlsEnabled: runtime.configuration.tlsEnabled, logger: logger))
        router.add(middleware: SealMiddleware(keyring: runtime.keyring))
        router.add(middleware: AuditMiddleware(runtime: runtime, logger: logger))
        router.add(middleware: WrapMiddleware(runtime: runtime))
        SysController(runtime: runtime).addRoutes(to: router)
        OpenAPIController().addRoutes(to: router)
        TokenController(runtime: runtime).addRoutes(to: router)
        TenantController(runtime: runtime).addRoutes(to: router)
        KeyringController(runtime: runtime).addRoutes(to: router)
        KeyringJobController(runtime: runtime).addRoutes(to: router)
        MountController(runtime: runtime).addRoutes(to: router)
        AuthMethodController(runtime: runtime).addRoutes(to: router)
        IdentityController(runtime: runtime).addRoutes(to: router)
        WrappingController(runtime: runtime).addRoutes(to: router)
        KVController(runtime: runtime).addRoutes(to: router)
        AuditController(runtime: runtime).addRoutes(to: router)
        APIKeyController(runtime: runtime).addRoutes(to: router)
        TransitController(runtime: runtime).addRoutes(to: router)
        GatewayController(runtime: runtime).addRoutes(to: router)
        GatewayAssetController(runtime: runtime).addRoutes(to: router)
        ProtectController(runtime: runtime).addRoutes(to: router)
        MetricsController(runtime: runtime).addRoutes(to: router)
        AlertController(runtime: runtime).addRoutes(to: router)
        return router
    }

    /// The HTTP server builder: plain HTTP/1.1, or TLS 1.2+ when a certificate is configured.
    public static func serverBuilder(_ configuration: ServerConfiguration) throws -> HTTPServerBuilder {
        guard let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else {
            return .http1WithList()
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            guard configuration.tlsRequestClientCertificates else { return try .tls(.http1WithList(tlsEnabled: true), tlsConfiguration: tls) }
            // Ask for a certificate, accept any at the handshake: each gateway project's mTLS profile
            // checks the chain against its own CA (a server-wide trust store could not tell projects apart).
            tls.certificateVerification = .optionalVerification
            let channel = TLSChannelConfiguration(tlsConfiguration: tls) { _, promise in promise.succeed(.certificateVerified) }
            return try .tls(.http1WithList(tlsEnabled: true), configuration: channel)
        } catch {
            throw CofferError(.configInvalid, "cannot load the TLS certificate or key (tls_cert_file, tls_key_file)")
        }
    }

    /// The separate, unauthenticated metrics listener (`metrics.listen`), plain HTTP: bind it to an
    /// address only the scraper reaches.
    public static func metricsListener(
        runtime: CofferRuntime, host: String, port: Int, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: MetricsController.unauthenticatedRouter(runtime: runtime),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// A runnable application. `onServerRunning` receives the bound port.
    public static func make(
        runtime: CofferRuntime, logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let configuration = runtime.configuration
        return Application(
            router: router(runtime: runtime, logger: logger),
            server: try serverBuilder(configuration),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

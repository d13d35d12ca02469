import CofferCore
import CofferStore
import Foundation
import Logging

/// The unlocked, running core of a Coffer server: storage, keyring and domain services.
public final class CofferRuntime: Sendable {
    /// Configuration.
    public let configuration: ServerConfiguration
    /// Storage.
    public let storage: any CofferStorage
    /// The unlocked keyring.
    public let keyring: Keyring
    /// Tokens.
    public let tokens: TokenService
    /// KV secrets.
    public let secrets: SecretService
    /// Tenants.
    public let tenants: TenantService
    /// Request authentication.
    public let authenticator: Authenticator
    /// Time source.
    public let clock: any CofferClock
    /// `sqlite` or `postgresql`, for seal-status.
    public let storageType: String

    /// Opens storage from the configuration, migrates it and unlocks the keyring with `rootKey`.
    public static func start(
        configuration: ServerConfiguration, rootKey: RootKeySource, environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: any CofferClock = SystemClock(), logger: Logger
    ) async throws -> CofferRuntime {
        try configuration.validate()
        let storage = try await SQLStorage.open(url: configuration.storageURL, logger: logger)
        do {
            let keyring = try await Keyring.open(storage: storage, source: rootKey, clock: clock)
            return CofferRuntime(
                configuration: configuration, storage: storage, keyring: keyring, environment: environment, clock: clock,
                storageType: configuration.storageURL.hasPrefix("postgres") ? "postgresql" : "sqlite")
        } catch {
            try? await storage.shutdown()
            throw error
        }
    }

    /// Builds a runtime over already-open storage and keyring.
    public init(
        configuration: ServerConfiguration, storage: any CofferStorage, keyring: Keyring, environment: [String: String],
        clock: any CofferClock, storageType: String
    ) {
        self.configuration = configuration
        self.storage = storage
        self.keyring = keyring
        self.clock = clock
        self.storageType = storageType
        let tokens = TokenService(store: storage.tokens, hasher: keyring.hasher, clock: clock)
        self.tokens = tokens
        self.secrets = SecretService(
            store: storage.secrets, keyring: keyring, clock: clock,
            references: EnvReferencePolicy(patterns: configuration.envReferencePatterns, environment: environment),
            defaultMaxVersions: configuration.defaultMaxVersions)
        self.tenants = TenantService(tenants: storage.tenants, keyring: keyring, tokens: tokens, clock: clock)
        self.authenticator = Authenticator(tokens: tokens, tenants: storage.tenants)
    }

    /// Closes storage.
    public func shutdown() async {
        try? await storage.shutdown()
    }
}

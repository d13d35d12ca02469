import CofferCore

/// Everything the server needs to start, from `coffer serve`'s config file, environment and flags.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host: String = "127.0.0.1"
    /// Port to bind (0 = any free port).
    public var port: Int = 8200
    /// Storage URL: `sqlite:///path/coffer.db` or `postgres://…`.
    public var storageURL: String = "sqlite://./.coffer/coffer.db"
    /// PostgreSQL: the schema owner's URL, used only to migrate at start-up, so that `storageURL` can
    /// name an application role under Row-Level Security (README "Database roles").
    public var storageMigrationURL: String?
    /// PostgreSQL: start even if the role in `storageURL` could bypass Row-Level Security (superuser,
    /// `BYPASSRLS`, owner of the tables). Off: such a role is refused with `CONFIG_INVALID`.
    public var allowRowSecurityBypass = false
    /// PostgreSQL: whether this instance `LISTEN`s for other instances' changes (on by default). Off
    /// for a pooler that cannot carry `LISTEN` (PgBouncer in transaction mode): cached records are
    /// then refreshed only by their 1 s age limit.
    public var changeNotifications = true
    /// Name of the KV v2 mount (`/v1/<mount>/…`).
    public var kvMount: String = "secret"
    /// Largest accepted request body, bytes.
    public var maxBodyBytes: Int = 1 << 20
    /// PEM certificate chain path; enables TLS 1.2+ with `tlsKeyPath`.
    public var tlsCertificatePath: String?
    /// PEM private key path.
    public var tlsKeyPath: String?
    /// Whether the TLS server asks clients for a certificate (optional: a client without one still
    /// connects). The certificate is checked per gateway project (mTLS client profiles), not at the
    /// handshake. Off by default: browsers may show a certificate picker when asked.
    public var tlsRequestClientCertificates = false
    /// Environment-variable names or `PREFIX_*` patterns that `$NAME` values may resolve to.
    public var envReferencePatterns: [String] = []
    /// Versions kept per secret when metadata says 0.
    public var defaultMaxVersions: Int = 10
    /// Whether this server runs in `coffer dev` mode (reported by health).
    public var devMode: Bool = false
    /// Whether requests are audited. On by default; off only for benchmarks' baseline.
    public var auditEnabled: Bool = true
    /// JSON-lines audit sink file (mode 0600), besides the database.
    public var auditFile: String?
    /// Also write audit entries as JSON lines to standard output.
    public var auditStdout: Bool = false
    /// URL of an HTTP audit sink (a SIEM collector): entries are POSTed as JSON lines, with retries.
    public var auditHTTPURL: String?
    /// Seconds between automatic signed checkpoints of every tenant's chain (0 = only on demand).
    public var auditCheckpointSeconds: Int = 3600

    /// Whether JWT/OIDC auth methods may fetch keys and discovery documents from loopback, private and
    /// link-local addresses (and over plain http). Off: a tenant admin cannot point Coffer at the
    /// operator's internal network. `coffer dev` turns it on (a local identity provider).
    public var authAllowInternalURLs = false

    /// Whether alert webhooks may go to loopback, private and link-local addresses (and over plain
    /// http). Off: a tenant admin cannot point deliveries at the operator's network. `coffer dev`: on.
    public var alertsAllowInternalURLs = false
    /// The SMTP relay for alert emails (no authentication, no STARTTLS: loopback or a trusted network).
    public var smtpHost: String?
    /// Its port.
    public var smtpPort = 25
    /// The sender of alert emails.
    public var smtpFrom = "coffer@localhost"

    /// `host:port` of a separate plain-HTTP listener serving `GET /metrics` without a credential (for a
    /// Prometheus scraper on a private network). Unset: metrics are only on the main listener, for
    /// callers of the system tenant with `metrics:read`.
    public var metricsListen: String?

    /// The metrics listener's host and port, if `metricsListen` is set; `CONFIG_INVALID` if malformed.
    public func metricsAddress() throws(CofferError) -> (host: String, port: Int)? {
        guard let metricsListen else { return nil }
        let invalid = CofferError(.configInvalid, "metrics.listen must be host:port (e.g. 127.0.0.1:9464 or [::1]:9464)")
        guard let colon = metricsListen.lastIndex(of: ":"), let port = Int(metricsListen[metricsListen.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw invalid }
        var host = String(metricsListen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("["), !host.contains("]"), !host.contains("/"), !host.contains(" ") else { throw invalid }
        return (host, port)
    }

    /// Request limits of Coffer's own API per kind of caller (`[rate_limits]`).
    public var rateLimits = RateLimitTiers()
    /// Seconds between writes of API-key last-use times (they are accurate within this interval).
    public var apiKeyUsageFlushSeconds: Int = 1
    /// Seconds between audit summaries of verification outcomes per tenant.
    public var apiKeyVerifySummarySeconds: Int = 60

    /// Default configuration.
    public init() {}

    /// Whether TLS is configured.
    public var tlsEnabled: Bool { tlsCertificatePath != nil && tlsKeyPath != nil }

    /// Checks values that would otherwise fail late.
    public func validate() throws(CofferError) {
        guard (0...65535).contains(port) else { throw CofferError(.configInvalid, "port must be 0-65535") }
        guard Tenant.isValidName(kvMount), kvMount != "sys", kvMount != "auth" else {
            throw CofferError(.configInvalid, "kv_mount must be a simple name other than sys and auth")
        }
        guard maxBodyBytes >= 1024 else { throw CofferError(.configInvalid, "max_body_bytes must be at least 1024") }
        guard rateLimits.isValid else { throw CofferError(.configInvalid, "rate limits must be 0 (off) to 1000000000 per minute") }
        guard (1...3600).contains(apiKeyUsageFlushSeconds), (1...86400).contains(apiKeyVerifySummarySeconds) else {
            throw CofferError(.configInvalid, "api_keys.usage_flush_seconds must be 1-3600 and api_keys.verify_summary_seconds 1-86400")
        }
        guard (tlsCertificatePath == nil) == (tlsKeyPath == nil) else {
            throw CofferError(.configInvalid, "tls_cert_file and tls_key_file must be given together")
        }
        _ = try metricsAddress()
        guard (1...65535).contains(smtpPort) else { throw CofferError(.configInvalid, "alerts.smtp_port must be 1-65535") }
        guard smtpFrom.utf8.count <= 254, smtpFrom.contains("@"), smtpFrom.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }),
            !smtpFrom.contains("<"), !smtpFrom.contains(">")
        else { throw CofferError(.configInvalid, "alerts.smtp_from must be a plain address (name@domain)") }
    }
}

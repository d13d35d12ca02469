import CofferCore
import CofferServer
import Foundation
import TOMLKit

/// Reads `coffer.toml` with TOMLKit (TOML 1.0: tables, dotted keys, comments, strings, integers,
/// booleans, arrays). A duplicate key or malformed TOML is an error with its line; a value of a type
/// Coffer does not use (floats, dates) or an unknown key is an error naming the key. Values are never
/// echoed (a storage URL can hold a password).
public enum ConfigFile {
    /// Parses the text into dotted keys (`section.key`) and values.
    public static func parse(_ text: String) throws(CofferError) -> [String: JSONValue] {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw CofferError(.configInvalid, "config line \(error.source.begin.line): \(error.description)")
        } catch {
            throw CofferError(.configInvalid, "the config file is not valid TOML")
        }
        var values: [String: JSONValue] = [:]
        try flatten(table, prefix: "", into: &values)
        return values
    }

    static func flatten(_ table: TOMLTable, prefix: String, into values: inout [String: JSONValue]) throws(CofferError) {
        for (key, item) in table {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = item.table {
                try flatten(nested, prefix: name, into: &values)
            } else {
                values[name] = try value(item, key: name)
            }
        }
    }

    static func value(_ item: any TOMLValueConvertible, key: String) throws(CofferError) -> JSONValue {
        switch item.type {
        case .string: return .string(item.string ?? "")
        case .int:
            guard let number = item.int else { throw CofferError(.configInvalid, "\(key) must be an integer") }
            return .int(number)
        case .bool: return .bool(item.bool ?? false)
        case .array:
            var items: [JSONValue] = []
            for element in item.array ?? TOMLArray() { items.append(try value(element, key: key)) }
            return .array(items)
        default:
            throw CofferError(.configInvalid, "\(key) must be a string, integer, boolean or array, not a \(item.type)")
        }
    }

    /// Applies parsed values to a configuration.
    public static func apply(_ values: [String: JSONValue], to configuration: inout ServerConfiguration) throws(CofferError) {
        for (key, value) in values {
            switch key {
            case "listen.host", "host": configuration.host = try string(key, value)
            case "listen.port", "port": configuration.port = try int(key, value)
            case "storage.url", "storage_url": configuration.storageURL = try string(key, value)
            case "storage.migration_url": configuration.storageMigrationURL = try string(key, value)
            case "storage.allow_rls_bypass":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.allowRowSecurityBypass = flag
            case "storage.change_notifications":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.changeNotifications = flag
            case "auth.allow_internal_urls":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.authAllowInternalURLs = flag
            case "metrics.listen": configuration.metricsListen = try string(key, value)
            case "alerts.allow_internal_urls":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.alertsAllowInternalURLs = flag
            case "alerts.smtp_host": configuration.smtpHost = try string(key, value)
            case "alerts.smtp_port": configuration.smtpPort = try int(key, value)
            case "alerts.smtp_from": configuration.smtpFrom = try string(key, value)
            case "kv.mount", "kv_mount": configuration.kvMount = try string(key, value)
            case "kv.max_versions": configuration.defaultMaxVersions = try int(key, value)
            case "limits.max_body_bytes", "max_body_bytes": configuration.maxBodyBytes = try int(key, value)
            case "tls.cert_file", "tls_cert_file": configuration.tlsCertificatePath = try string(key, value)
            case "tls.key_file", "tls_key_file": configuration.tlsKeyPath = try string(key, value)
            case "tls.request_client_certificates":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.tlsRequestClientCertificates = flag
            case "secrets.env_references", "env_references":
                guard case .array(let items) = value, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw CofferError(.configInvalid, "\(key) must be an array of strings")
                }
                configuration.envReferencePatterns = items.compactMap(\.stringValue)
            case "audit.enabled":
                guard let flag = value.boolValue, case .bool = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.auditEnabled = flag
            case "audit.file": configuration.auditFile = try string(key, value)
            case "audit.stdout":
                guard case .bool(let flag) = value else { throw CofferError(.configInvalid, "\(key) must be true or false") }
                configuration.auditStdout = flag
            case "audit.http_url": configuration.auditHTTPURL = try string(key, value)
            case "audit.checkpoint_interval_seconds": configuration.auditCheckpointSeconds = try int(key, value)
            case "rate_limits.anonymous": configuration.rateLimits.anonymousPerMinute = try int(key, value)
            case "rate_limits.authenticated": configuration.rateLimits.authenticatedPerMinute = try int(key, value)
            case "rate_limits.service": configuration.rateLimits.servicePerMinute = try int(key, value)
            case "rate_limits.tenant": configuration.rateLimits.tenantPerMinute = try int(key, value)
            case "api_keys.usage_flush_seconds": configuration.apiKeyUsageFlushSeconds = try int(key, value)
            case "api_keys.verify_summary_seconds": configuration.apiKeyVerifySummarySeconds = try int(key, value)
            default:
                throw CofferError(.configInvalid, "unknown configuration key \(key)")
            }
        }
    }

    static func string(_ key: String, _ value: JSONValue) throws(CofferError) -> String {
        guard let text = value.stringValue else { throw CofferError(.configInvalid, "\(key) must be a string") }
        return text
    }

    static func int(_ key: String, _ value: JSONValue) throws(CofferError) -> Int {
        guard case .number = value, let number = value.intValue else { throw CofferError(.configInvalid, "\(key) must be an integer") }
        return number
    }

    /// Environment overrides: `COFFER_LISTEN`, `COFFER_PORT`, `COFFER_STORAGE_URL`, `COFFER_STORAGE_MIGRATION_URL`,
    /// `COFFER_STORAGE_ALLOW_RLS_BYPASS`, `COFFER_STORAGE_CHANGE_NOTIFICATIONS`, `COFFER_AUTH_ALLOW_INTERNAL_URLS`, `COFFER_METRICS_LISTEN`, `COFFER_KV_MOUNT`,
    /// `COFFER_TLS_CERT_FILE`, `COFFER_TLS_KEY_FILE`, `COFFER_TLS_REQUEST_CLIENT_CERTIFICATES`, `COFFER_ENV_REFERENCES` (comma-separated),
    /// `COFFER_RATE_LIMIT_ANONYMOUS|AUTHENTICATED|SERVICE|TENANT` (per minute, 0 = off).
    public static func applyEnvironment(_ environment: [String: String], to configuration: inout ServerConfiguration) throws(CofferError) {
        if let value = environment["COFFER_LISTEN"] { configuration.host = value }
        if let value = environment["COFFER_PORT"] {
            guard let port = Int(value) else { throw CofferError(.configInvalid, "COFFER_PORT must be an integer") }
            configuration.port = port
        }
        if let value = environment["COFFER_STORAGE_URL"] { configuration.storageURL = value }
        if let value = environment["COFFER_STORAGE_MIGRATION_URL"] { configuration.storageMigrationURL = value }
        if let value = environment["COFFER_STORAGE_ALLOW_RLS_BYPASS"] {
            guard ["true", "false", "1", "0"].contains(value) else {
                throw CofferError(.configInvalid, "COFFER_STORAGE_ALLOW_RLS_BYPASS must be true or false")
            }
            configuration.allowRowSecurityBypass = value == "true" || value == "1"
        }
        if let value = environment["COFFER_STORAGE_CHANGE_NOTIFICATIONS"] {
            guard ["true", "false", "1", "0"].contains(value) else {
                throw CofferError(.configInvalid, "COFFER_STORAGE_CHANGE_NOTIFICATIONS must be true or false")
            }
            configuration.changeNotifications = value == "true" || value == "1"
        }
        if let value = environment["COFFER_AUTH_ALLOW_INTERNAL_URLS"] {
            guard ["true", "false", "1", "0"].contains(value) else {
                throw CofferError(.configInvalid, "COFFER_AUTH_ALLOW_INTERNAL_URLS must be true or false")
            }
            configuration.authAllowInternalURLs = value == "true" || value == "1"
        }
        if let value = environment["COFFER_KV_MOUNT"] { configuration.kvMount = value }
        if let value = environment["COFFER_TLS_CERT_FILE"] { configuration.tlsCertificatePath = value }
        if let value = environment["COFFER_TLS_KEY_FILE"] { configuration.tlsKeyPath = value }
        if let value = environment["COFFER_TLS_REQUEST_CLIENT_CERTIFICATES"] {
            guard ["true", "false", "1", "0"].contains(value) else {
                throw CofferError(.configInvalid, "COFFER_TLS_REQUEST_CLIENT_CERTIFICATES must be true or false")
            }
            configuration.tlsRequestClientCertificates = value == "true" || value == "1"
        }
        if let value = environment["COFFER_ALERTS_ALLOW_INTERNAL_URLS"] {
            guard ["true", "false", "1", "0"].contains(value) else {
                throw CofferError(.configInvalid, "COFFER_ALERTS_ALLOW_INTERNAL_URLS must be true or false")
            }
            configuration.alertsAllowInternalURLs = value == "true" || value == "1"
        }
        if let value = environment["COFFER_SMTP_HOST"] { configuration.smtpHost = value.isEmpty ? nil : value }
        if let value = environment["COFFER_SMTP_PORT"] {
            guard let port = Int(value) else { throw CofferError(.configInvalid, "COFFER_SMTP_PORT must be an integer") }
            configuration.smtpPort = port
        }
        if let value = environment["COFFER_SMTP_FROM"] { configuration.smtpFrom = value }
        if let value = environment["COFFER_METRICS_LISTEN"] { configuration.metricsListen = value.isEmpty ? nil : value }
        if let value = environment["COFFER_AUDIT_FILE"] { configuration.auditFile = value }
        if let value = environment["COFFER_AUDIT_HTTP_URL"] { configuration.auditHTTPURL = value }
        let tiers: [(String, WritableKeyPath<RateLimitTiers, Int>)] = [
            ("ANONYMOUS", \.anonymousPerMinute), ("AUTHENTICATED", \.authenticatedPerMinute), ("SERVICE", \.servicePerMinute),
            ("TENANT", \.tenantPerMinute),
        ]
        for (name, path) in tiers {
            guard let value = environment["COFFER_RATE_LIMIT_\(name)"] else { continue }
            guard let number = Int(value) else { throw CofferError(.configInvalid, "COFFER_RATE_LIMIT_\(name) must be an integer") }
            configuration.rateLimits[keyPath: path] = number
        }
        if let value = environment["COFFER_ENV_REFERENCES"] {
            configuration.envReferencePatterns = value.split(separator: ",").map { String($0) }
        }
    }
}

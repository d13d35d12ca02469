import CofferCore
import Foundation

/// Where the CLI client finds the server, its token and its tenant, and which certificates it trusts.
///
/// Address: `--address`, else `COFFER_ADDR`, else `VAULT_ADDR`, else `http://127.0.0.1:8200`.
/// Token: `COFFER_TOKEN`, else `VAULT_TOKEN`, else the 0600 token file written by `coffer login`.
/// Tenant: `--tenant`, else `COFFER_TENANT`, else `VAULT_NAMESPACE`, else the token's own.
/// TLS: `--ca-cert`, else `COFFER_CACERT`, else `VAULT_CACERT` (a PEM file); `VAULT_CAPATH` (a folder
/// of PEM files); `--tls-skip-verify` or `VAULT_SKIP_VERIFY` turns checking off, with a warning.
public struct ClientEnvironment: Sendable {
    /// Server base URL.
    public var address: String
    /// Token, if found.
    public var token: String?
    /// Tenant name to send, if any.
    public var tenant: String?
    /// Why the token found cannot be sent (it names where it came from, never the value); requests
    /// refuse to start while it is set.
    public var tokenProblem: String?
    /// Where the address came from (`--address`, `COFFER_ADDR`, `VAULT_ADDR`, or the default), for messages.
    public var addressSource = "the default address"
    /// Where the token came from, or nil when there is none, for messages.
    public var tokenSource: String?
    /// PEM file of certificate authorities to trust instead of the system's.
    public var caCertFile: String?
    /// Folder of PEM files of certificate authorities to trust instead of the system's.
    public var caPath: String?
    /// Whether server certificates go unchecked.
    public var skipVerify = false

    /// Resolves the client settings from flags, the environment and the token file. Surrounding
    /// whitespace (a trailing newline from `$(cat token.txt)`, a CR from a Windows file) is trimmed
    /// from a token; a token with any other character outside printable ASCII is refused by name.
    public static func resolve(
        address: String?, tenant: String?, caCert: String? = nil, skipVerify: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ClientEnvironment {
        let (resolvedAddress, addressSource): (String, String) =
            if let address { (address, "--address") } else if let value = environment["COFFER_ADDR"] {
                (value, "COFFER_ADDR")
            } else if let value = environment["VAULT_ADDR"] { (value, "VAULT_ADDR") } else { ("http://127.0.0.1:8200", "the default address") }
        var source = environment["COFFER_TOKEN"] != nil ? "COFFER_TOKEN" : "VAULT_TOKEN"
        var token = (environment["COFFER_TOKEN"] ?? environment["VAULT_TOKEN"]).map(trimmed)
        if token?.isEmpty ?? true {
            token = TokenFile.read(environment: environment)
            source = "the token file \(TokenFile.path(environment: environment))"
        }
        let resolvedTenant = tenant ?? environment["COFFER_TENANT"] ?? environment["VAULT_NAMESPACE"]
        let trimmedAddress = trimmed(resolvedAddress)
        var resolved = ClientEnvironment(
            address: trimmedAddress.hasSuffix("/") ? String(trimmedAddress.dropLast()) : trimmedAddress,
            token: nil, tenant: resolvedTenant?.isEmpty == true ? nil : resolvedTenant, tokenProblem: nil)
        resolved.addressSource = addressSource
        resolved.caCertFile = [caCert, environment["COFFER_CACERT"], environment["VAULT_CACERT"]].compactMap { $0 }.first { !$0.isEmpty }
        resolved.caPath = environment["VAULT_CAPATH"].flatMap { $0.isEmpty ? nil : $0 }
        resolved.skipVerify = skipVerify || Self.isTrue(environment["VAULT_SKIP_VERIFY"]) || Self.isTrue(environment["COFFER_SKIP_VERIFY"])
        if let token { resolved.use(token: token, from: source) }
        return resolved
    }

    /// Why the address cannot be used, with the fix, or nil: it must be `http://` or `https://` and a host.
    public var addressProblem: String? {
        if address.isEmpty { return "\(addressSource) is empty; set it to the server's URL, e.g. http://127.0.0.1:8200" }
        let lower = address.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            if !address.contains("://") {
                return "\(addressSource) (\(displayAddress)) has no scheme; use http://\(displayAddress) (or https:// if the server has TLS)"
            }
            return "\(addressSource) (\(displayAddress)) is not an http:// or https:// URL"
        }
        guard let url = URL(string: address), let host = url.host, !host.isEmpty else {
            return "\(addressSource) (\(displayAddress)) is not a valid URL; e.g. http://127.0.0.1:8200"
        }
        return nil
    }

    /// Whether TLS is in use.
    public var usesTLS: Bool { address.lowercased().hasPrefix("https://") }

    /// `1`, `true`, `yes` (any case), as the vault CLI reads `VAULT_SKIP_VERIFY`.
    static func isTrue(_ value: String?) -> Bool {
        guard let value = value?.lowercased() else { return false }
        return ["1", "true", "yes", "t"].contains(value)
    }

    /// The address for messages: without any `user:password@` it may carry.
    public var displayAddress: String {
        guard let scheme = address.range(of: "://"), let at = address[scheme.upperBound...].range(of: "@"),
            !address[scheme.upperBound..<at.lowerBound].contains("/")
        else { return address }
        return String(address[..<scheme.upperBound]) + "…@" + String(address[at.upperBound...])
    }

    /// Uses `token` (from `source`, named in errors) for requests: trimmed of surrounding whitespace,
    /// refused (``tokenProblem``) if anything else in it is outside printable ASCII, so it can never
    /// break a header or be quoted back in an error.
    public mutating func use(token: String, from source: String) {
        let token = Self.trimmed(token)
        guard token.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }) else {
            self.token = nil
            tokenProblem = "the token in \(source) contains characters a token cannot hold (spaces, control or non-ASCII characters)"
            return
        }
        self.token = token
        tokenSource = source
        tokenProblem = nil
    }

    /// The text without surrounding spaces, tabs, carriage returns and newlines.
    static func trimmed(_ text: String) -> String {
        let blank: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !blank($0) }), let last = scalars.lastIndex(where: { !blank($0) }) else { return "" }
        return String(scalars[first...last])
    }
}

/// The token file under the user's config directory (`$XDG_CONFIG_HOME/coffer/token` or `~/.config/coffer/token`), mode 0600.
public enum TokenFile {
    /// The file's path.
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/coffer/token"
    }

    /// Reads the token, ignoring a file that group or others can access.
    public static func read(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let file = path(environment: environment)
        var info = stat()
        guard stat(file, &info) == 0, info.st_mode & 0o077 == 0,
            let data = FileManager.default.contents(atPath: file)
        else { return nil }
        let token = ClientEnvironment.trimmed(String(decoding: data, as: UTF8.self))
        return token.isEmpty ? nil : token
    }

    /// Writes the token with mode 0600 (directory 0700), replacing any previous one.
    public static func write(_ token: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let file = path(environment: environment)
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try SecureFile.write(Array(token.utf8) + [0x0a], to: file)
    }
}

/// Writing files that hold secrets: created 0600 before any byte is written.
public enum SecureFile {
    /// Writes `bytes` to `path` with mode 0600 atomically (temp file + rename).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw CofferError(.configInvalid, "cannot create \(path)") }
        let written = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CofferError(.configInvalid, "cannot write \(path)")
        }
    }
}

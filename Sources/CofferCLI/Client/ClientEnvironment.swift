import CofferCore
import Foundation

/// Where the CLI client finds the server, its token and its tenant.
///
/// Address: `--address`, else `COFFER_ADDR`, else `VAULT_ADDR`, else `http://127.0.0.1:8200`.
/// Token: `COFFER_TOKEN`, else `VAULT_TOKEN`, else the 0600 token file written by `coffer login`.
/// Tenant: `--tenant`, else `COFFER_TENANT`, else `VAULT_NAMESPACE`, else the token's own.
public struct ClientEnvironment: Sendable {
    /// Server base URL.
    public var address: String
    /// Token, if found.
    public var token: String?
    /// Tenant name to send, if any.
    public var tenant: String?

    /// Resolves the client settings from flags, the environment and the token file.
    public static func resolve(
        address: String?, tenant: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ClientEnvironment {
        let resolvedAddress = address ?? environment["COFFER_ADDR"] ?? environment["VAULT_ADDR"] ?? "http://127.0.0.1:8200"
        var token = environment["COFFER_TOKEN"] ?? environment["VAULT_TOKEN"]
        if token?.isEmpty ?? true { token = TokenFile.read(environment: environment) }
        let resolvedTenant = tenant ?? environment["COFFER_TENANT"] ?? environment["VAULT_NAMESPACE"]
        return ClientEnvironment(
            address: resolvedAddress.hasSuffix("/") ? String(resolvedAddress.dropLast()) : resolvedAddress,
            token: token, tenant: resolvedTenant?.isEmpty == true ? nil : resolvedTenant)
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
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
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

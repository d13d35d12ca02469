/// Additional authenticated data that binds a ciphertext to the place it lives.
///
/// Fields are length-prefixed so no two different field lists encode to the same bytes.
public struct AssociatedData: Sendable, Hashable {
    /// The encoded bytes fed to AES-GCM as AAD.
    public let bytes: [UInt8]

    /// Builds AAD from a purpose label and an ordered list of fields.
    public init(purpose: String, fields: [String]) {
        var out: [UInt8] = Array("coffer-aad-v1".utf8)
        for field in [purpose] + fields {
            let utf8 = Array(field.utf8)
            let length = UInt32(utf8.count)
            out += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            out += utf8
        }
        self.bytes = out
    }

    /// AAD of a KV secret version: tenant, mount, path and version.
    public static func secret(tenantID: String, mount: String, path: String, version: Int) -> AssociatedData {
        AssociatedData(purpose: "kv-secret", fields: [tenantID, mount, path, String(version)])
    }

    /// AAD of a wrapped tenant data key.
    public static func dataKey(tenantID: String, version: Int, rootVersion: Int) -> AssociatedData {
        AssociatedData(purpose: "data-key", fields: [tenantID, String(version), String(rootVersion)])
    }

    /// AAD of a wrapped system key (token hashing key and the like).
    public static func systemKey(name: String, rootVersion: Int) -> AssociatedData {
        AssociatedData(purpose: "system-key", fields: [name, String(rootVersion)])
    }

    /// AAD of a wrapped response: tenant, wrapping accessor and creation path.
    public static func wrapped(tenantID: String, accessor: String, creationPath: String) -> AssociatedData {
        AssociatedData(purpose: "wrapped-response", fields: [tenantID, accessor, creationPath])
    }

    /// AAD of a sealed transit key (all its versions and configuration).
    public static func transitKey(tenantID: String, name: String) -> AssociatedData {
        AssociatedData(purpose: "transit-key", fields: [tenantID, name])
    }
}

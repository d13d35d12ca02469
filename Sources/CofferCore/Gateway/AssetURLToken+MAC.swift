import Crypto

extension AssetURLToken {
    /// Issues a token for one asset.
    public static func issue(
        tenantID: String, project: String, asset: String, expiresAt: Int64, key: DataKey
    ) -> AssetURLToken {
        let mac = HMAC<SHA256>.authenticationCode(
            for: message(tenantID: tenantID, project: project, asset: asset, expiresAt: expiresAt), using: macKey(key.key))
        return AssetURLToken(expiresAt: expiresAt, keyVersion: key.version, mac: Array(mac))
    }

    /// Checks the token for one asset at `now` (Unix seconds): `ASSET_TOKEN_INVALID` when it was not
    /// issued for this asset (or was altered), `ASSET_TOKEN_EXPIRED` when it was but has expired.
    /// `key` gives the data key of a version, or `nil` when there is none.
    public func verify(tenantID: String, project: String, asset: String, now: Int64, key: DataKey?) throws(CofferError) {
        let expected = message(tenantID: tenantID, project: project, asset: asset)
        guard let key, key.version == keyVersion, HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: expected, using: Self.macKey(key.key))
        else {
            throw CofferError(.assetTokenInvalid, "this asset URL's token is not valid for this asset")
        }
        guard now <= expiresAt else { throw CofferError(.assetTokenExpired, "this asset URL has expired; ask for a new one") }
    }

    private func message(tenantID: String, project: String, asset: String) -> [UInt8] {
        Self.message(tenantID: tenantID, project: project, asset: asset, expiresAt: expiresAt)
    }

    static func message(tenantID: String, project: String, asset: String, expiresAt: Int64) -> [UInt8] {
        AssociatedData(purpose: "gateway-asset-url", fields: [tenantID, project, asset, String(expiresAt)]).bytes
    }

    static func macKey(_ dataKey: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: dataKey, info: Array("coffer gateway asset url v1".utf8), outputByteCount: 32)
    }
}

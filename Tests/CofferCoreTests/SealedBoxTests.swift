import CofferTestSupport
import Crypto
import Testing

@testable import CofferCore

@Suite("Envelope: SealedBox")
struct SealedBoxTests {
    let key = SymmetricKey(size: .bits256)
    let aad = AssociatedData.secret(tenantID: "t1", mount: "secret", path: "app/db", version: 3)
    let plaintext = Array("{\"password\":\"hunter2\"}".utf8)

    @Test func roundTripAndLayout() throws {
        let blob = try SealedBox.seal(plaintext, key: key, keyVersion: 7, aad: aad)
        #expect(blob.count == SealedBox.headerLength + 12 + plaintext.count + 16)
        #expect(blob[0] == SealedBox.formatVersion)
        #expect(SealedBox.keyVersion(of: blob) == 7)
        let opened = try SealedBox.open(blob, aad: aad) { version throws(CofferError) in
            #expect(version == 7)
            return key
        }
        #expect(opened == plaintext)
    }

    @Test func freshNoncePerSeal() throws {
        let first = try SealedBox.seal(plaintext, key: key, keyVersion: 1, aad: aad)
        let second = try SealedBox.seal(plaintext, key: key, keyVersion: 1, aad: aad)
        #expect(first[5..<17] != second[5..<17])
        #expect(first != second)
    }

    /// Flipping one bit anywhere — format, key version, nonce, ciphertext or tag — must fail.
    @Test(arguments: ["format", "keyVersion", "nonce", "ciphertext", "tag"])
    func tamperedRegionFails(region: String) throws {
        var blob = try SealedBox.seal(plaintext, key: key, keyVersion: 1, aad: aad)
        let index: Int
        switch region {
        case "format": index = 0
        case "keyVersion": index = 4
        case "nonce": index = 10
        case "ciphertext": index = SealedBox.headerLength + 12 + 3
        default: index = blob.count - 1
        }
        blob[index] ^= 0x01
        expectError(.decryptionFailed) {
            _ = try SealedBox.open(blob, aad: aad) { _ throws(CofferError) in key }
        }
    }

    /// A blob moved to another tenant, mount, path or version does not open.
    @Test(arguments: [
        AssociatedData.secret(tenantID: "t2", mount: "secret", path: "app/db", version: 3),
        AssociatedData.secret(tenantID: "t1", mount: "other", path: "app/db", version: 3),
        AssociatedData.secret(tenantID: "t1", mount: "secret", path: "app/dc", version: 3),
        AssociatedData.secret(tenantID: "t1", mount: "secret", path: "app/db", version: 4),
    ])
    func movedBlobFails(elsewhere: AssociatedData) throws {
        let blob = try SealedBox.seal(plaintext, key: key, keyVersion: 1, aad: aad)
        let error = #expect(throws: CofferError.self) {
            _ = try SealedBox.open(blob, aad: elsewhere) { _ throws(CofferError) in key }
        }
        #expect(error?.code == .decryptionFailed)
    }

    @Test func wrongKeyFails() throws {
        let blob = try SealedBox.seal(plaintext, key: key, keyVersion: 1, aad: aad)
        expectError(.decryptionFailed) {
            _ = try SealedBox.open(blob, aad: aad) { _ throws(CofferError) in SymmetricKey(size: .bits256) }
        }
    }

    @Test func truncatedBlobIsMalformedNotACrash() {
        for length in [0, 1, 5, 16, SealedBox.minimumLength - 1] {
            let error = #expect(throws: CofferError.self) {
                _ = try SealedBox.open(Array(repeating: 1, count: length), aad: aad) { _ throws(CofferError) in key }
            }
            #expect(error?.code == .decryptionFailed)
        }
    }

    @Test func aadFieldsAreUnambiguous() {
        #expect(AssociatedData(purpose: "p", fields: ["ab", "c"]) != AssociatedData(purpose: "p", fields: ["a", "bc"]))
        #expect(AssociatedData(purpose: "p", fields: ["a/b"]) != AssociatedData(purpose: "p", fields: ["a", "b"]))
    }
}

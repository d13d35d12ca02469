import CofferTestSupport
import Foundation
import Testing

@testable import CofferCore

@Suite("Keyring: root key, data keys, sources")
struct KeyringTests {
    @Test func rootKeyCheckDetectsWrongKey() throws {
        let root = RootKey.generate(version: 1)
        let check = try root.makeCheck()
        #expect(root.verify(check: check))
        #expect(!RootKey.generate(version: 1).verify(check: check))
        var tampered = check
        tampered[tampered.count - 1] ^= 1
        #expect(!root.verify(check: tampered))
    }

    @Test func dataKeyWrapIsBoundToTenantAndVersion() throws {
        let root = RootKey.generate(version: 2)
        let key = DataKey.generate(version: 1)
        let wrapped = try root.wrap(key, tenantID: "tenant-a")
        let unwrapped = try root.unwrap(wrapped, tenantID: "tenant-a", version: 1)
        #expect(unwrapped.key == key.key)
        expectError(.decryptionFailed) { _ = try root.unwrap(wrapped, tenantID: "tenant-b", version: 1) }
        expectError(.decryptionFailed) { _ = try root.unwrap(wrapped, tenantID: "tenant-a", version: 2) }
        expectError(.decryptionFailed) { _ = try RootKey.generate(version: 2).unwrap(wrapped, tenantID: "tenant-a", version: 1) }
    }

    @Test func rootKeyMustBe32Bytes() {
        expectError(.rootKeyInvalid) { _ = try RootKey(version: 1, bytes: [UInt8](repeating: 1, count: 31)) }
        expectError(.rootKeyInvalid) { _ = try RootKey(version: 1, bytes: [UInt8](repeating: 1, count: 33)) }
    }

    @Test func environmentSourceErrorsNameTheVariableNotTheValue() throws {
        let missing = #expect(throws: CofferError.self) { _ = try RootKeySource.fromEnvironment([:]) }
        #expect(missing?.code == .rootKeyInvalid)
        #expect(missing?.message.contains("COFFER_ROOT_KEY") == true)

        let shortKey = Base64.encode([UInt8](repeating: 7, count: 16))
        let wrongLength = #expect(throws: CofferError.self) { _ = try RootKeySource.fromEnvironment(["COFFER_ROOT_KEY": shortKey]) }
        #expect(wrongLength?.message.contains("COFFER_ROOT_KEY") == true)
        #expect(wrongLength?.message.contains(shortKey) == false)

        let notBase64 = #expect(throws: CofferError.self) { _ = try RootKeySource.fromEnvironment(["COFFER_ROOT_KEY": "%%%not-base64%%%"]) }
        #expect(notBase64?.message.contains("%%%not-base64%%%") == false)

        let good = Base64.encode([UInt8](repeating: 9, count: 32))
        guard case .key(let bytes, _) = try RootKeySource.fromEnvironment(["COFFER_ROOT_KEY": good]) else {
            Issue.record("expected a key source")
            return
        }
        #expect(bytes == [UInt8](repeating: 9, count: 32))

        let weak = #expect(throws: CofferError.self) { _ = try RootKeySource.fromEnvironment(["COFFER_ROOT_PASSPHRASE": "short"]) }
        #expect(weak?.message.contains("COFFER_ROOT_PASSPHRASE") == true)
    }

    @Test(arguments: [(0o600, true), (0o400, true), (0o640, false), (0o644, false), (0o606, false)])
    func keyFileModeIsEnforced(mode: Int, accepted: Bool) throws {
        let path = NSTemporaryDirectory() + "coffer-key-\(UUID().uuidString)"
        defer { unlink(path) }
        let content = Base64.encode([UInt8](repeating: 5, count: 32))
        #expect(FileManager.default.createFile(atPath: path, contents: Data(content.utf8)))
        chmod(path, mode_t(mode))
        if accepted {
            #expect(try RootKeySource.readKeyFile(path) == [UInt8](repeating: 5, count: 32))
        } else {
            let error = #expect(throws: CofferError.self) { _ = try RootKeySource.readKeyFile(path) }
            #expect(error?.message.contains("0600") == true)
            #expect(error?.message.contains(content) == false)
        }
    }

    @Test func passphraseKDFsAreDeterministicPerSaltAndDiffer() throws {
        var argon = PassphraseKDF.generate(.argon2id)
        argon.argon2 = Argon2id(memoryKiB: 1024, iterations: 1, parallelism: 1)
        let passphrase = Array("correct horse battery staple".utf8)
        let first = try argon.deriveKey(passphrase: passphrase)
        #expect(first.count == 32)
        #expect(try argon.deriveKey(passphrase: passphrase) == first)
        #expect(try argon.deriveKey(passphrase: Array("correct horse battery stapler".utf8)) != first)

        let pbkdf2 = PassphraseKDF.generate(.pbkdf2SHA512)
        #expect(pbkdf2.rounds == 600_000)
        let derived = try pbkdf2.deriveKey(passphrase: passphrase)
        #expect(derived.count == 32 && derived != first)
        var otherSalt = pbkdf2
        otherSalt.salt = Base64.encode([UInt8](repeating: 1, count: 16))
        #expect(try otherSalt.deriveKey(passphrase: passphrase) != derived)
    }
}

import CofferTestSupport
import Crypto
import Foundation
import Testing

@testable import CofferCore

@Suite("Transit ciphers")
struct TransitCipherTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    @Test func aesGCMDecryptsTheGCMSpecTestCase16() throws {
        // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV, AAD).
        let key = Self.hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
        let nonce = Self.hex("cafebabefacedbaddecaf888")
        let aad = Self.hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let plaintext = Self.hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39")
        let ciphertext = Self.hex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662")
        let tag = Self.hex("76fc6ece0f4e1768cddf8853bb2d551b")
        let blob = nonce + ciphertext + tag
        #expect(try TransitCipher.decrypt(blob, type: .aes256GCM96, material: key, aad: aad, context: nil) == plaintext)
        let formatted = TransitService.format(1, blob)
        #expect(TransitService.parse(formatted)?.1 == blob && formatted.hasPrefix("vault:v1:"))
    }

    @Test func chachaDecryptsTheRFC8439Vector() throws {
        // RFC 8439 §2.8.2.
        let key = Self.hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
        let nonce = Self.hex("070000004041424344454647")
        let aad = Self.hex("50515253c0c1c2c3c4c5c6c7")
        let plaintext = Array(
            "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let ciphertext = Self.hex(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
        )
        let tag = Self.hex("1ae10b594f09e26a7e902ecbd0600691")
        #expect(try TransitCipher.decrypt(nonce + ciphertext + tag, type: .chacha20Poly1305, material: key, aad: aad, context: nil) == plaintext)
    }

    @Test(arguments: [TransitKeyType.aes256GCM96, .chacha20Poly1305, .mlKEM768, .xWing])
    func encryptionRoundTripsAndRefusesEveryAlteration(type: TransitKeyType) throws {
        let material = try type.generateMaterial()
        let other = try type.generateMaterial()
        let message = Array("pay 100 EUR to DE89 3704".utf8)
        let aad = Array("order-7".utf8)
        let blob = try TransitCipher.encrypt(message, type: type, material: material, aad: aad, context: nil)
        #expect(try TransitCipher.decrypt(blob, type: type, material: material, aad: aad, context: nil) == message)
        #expect(try TransitCipher.encrypt(message, type: type, material: material, aad: aad, context: nil) != blob, "fresh randomness each time")
        func refused(_ body: () throws -> [UInt8]) -> Bool {
            do {
                _ = try body()
                return false
            } catch let error as CofferError {
                return error.code == .decryptionFailed && error.isClientInput
            } catch {
                return false
            }
        }
        #expect(refused { try TransitCipher.decrypt(blob, type: type, material: other, aad: aad, context: nil) }, "wrong key")
        #expect(refused { try TransitCipher.decrypt(blob, type: type, material: material, aad: [], context: nil) }, "wrong associated data")
        for position in [0, 1, blob.count / 2, blob.count - 17, blob.count - 1] {
            var tampered = blob
            tampered[position] ^= 0x01
            #expect(refused { try TransitCipher.decrypt(tampered, type: type, material: material, aad: aad, context: nil) }, "byte \(position)")
        }
        #expect(refused { try TransitCipher.decrypt(Array(blob.dropLast()), type: type, material: material, aad: aad, context: nil) }, "truncated")
        #expect(refused { try TransitCipher.decrypt([], type: type, material: material, aad: aad, context: nil) }, "empty")
    }

    @Test func derivedKeysDependOnTheContext() throws {
        let material = try TransitKeyType.aes256GCM96.generateMaterial()
        let blob = try TransitCipher.encrypt([1, 2, 3], type: .aes256GCM96, material: material, aad: [], context: [9])
        #expect(try TransitCipher.decrypt(blob, type: .aes256GCM96, material: material, aad: [], context: [9]) == [1, 2, 3])
        expectError(.decryptionFailed) { try TransitCipher.decrypt(blob, type: .aes256GCM96, material: material, aad: [], context: [8]) }
        expectError(.decryptionFailed) { try TransitCipher.decrypt(blob, type: .aes256GCM96, material: material, aad: [], context: nil) }
    }

    @Test(arguments: [TransitKeyType.ed25519, .ecdsaP256, .mlDSA65, .ed25519MLDSA65])
    func signaturesVerifyAndAlterationsDoNot(type: TransitKeyType) throws {
        let material = try type.generateMaterial()
        let message = Array("approve payment 42".utf8)
        let signature = try TransitCipher.sign(message, type: type, material: material)
        #expect(TransitCipher.verify(signature, message: message, type: type, material: material))
        #expect(!TransitCipher.verify(signature, message: Array("approve payment 43".utf8), type: type, material: material))
        #expect(!TransitCipher.verify(signature, message: message, type: type, material: try type.generateMaterial()), "another key")
        for position in [0, signature.count / 2, signature.count - 1] {
            var tampered = signature
            tampered[position] ^= 0x80
            #expect(!TransitCipher.verify(tampered, message: message, type: type, material: material), "byte \(position)")
        }
        #expect(!TransitCipher.verify([], message: message, type: type, material: material))
        let publicKey = try TransitCipher.publicKey(type: type, material: material)
        #expect(TransitCipher.verify(signature, message: message, type: type, publicKey: publicKey), "verifiable from the public key alone")
    }

    @Test func hybridSignaturesNeedBothHalves() throws {
        let material = try TransitKeyType.ed25519MLDSA65.generateMaterial()
        let message = Array("hybrid".utf8)
        let signature = try TransitCipher.sign(message, type: .ed25519MLDSA65, material: material)
        #expect(signature.count == 64 + 3309, "Ed25519 (64) then ML-DSA-65 (3309)")
        // A valid Ed25519 half with someone else's ML-DSA half, and the other way round, both fail.
        let stranger = try TransitCipher.sign(message, type: .ed25519MLDSA65, material: try TransitKeyType.ed25519MLDSA65.generateMaterial())
        #expect(!TransitCipher.verify(Array(signature[..<64]) + Array(stranger[64...]), message: message, type: .ed25519MLDSA65, material: material))
        #expect(!TransitCipher.verify(Array(stranger[..<64]) + Array(signature[64...]), message: message, type: .ed25519MLDSA65, material: material))
        let mldsaOnly = try TransitCipher.sign(message, type: .mlDSA65, material: Array(material[32...]))
        #expect(TransitCipher.verify(mldsaOnly, message: message, type: .mlDSA65, material: Array(material[32...])))
    }

    @Test func versionRulesFollowTheLifecycle() throws {
        var key = TransitKey(name: "k", type: .aes256GCM96, material: [1], createdAt: 0)
        key.overlapSeconds = 60
        key.rotate(material: [2], now: 1_000)
        key.rotate(material: [3], now: 2_000)
        #expect(try key.versionForWriting(nil, now: 3_000).version == 3)
        expectError(.keyDisabled, "deprecated versions only decrypt") { try key.versionForWriting(2, now: 3_000) }
        #expect(try key.versionForReading(1, now: 3_000).version == 1, "inside the overlap")
        #expect(key.state(of: try #require(key.version(2)), now: 3_000) == "deprecated")
        do {
            _ = try key.versionForReading(1, now: 61_000)
            Issue.record("version 1 retired 60 s after the rotation that replaced it")
        } catch {
            #expect(error.code == .keyDisabled)
        }
        key.minDecryptionVersion = 3
        expectError(.keyDisabled) { try key.versionForReading(2, now: 3_000) }
        key.minEncryptionVersion = 3
        key.expiresAt = 10_000
        do {
            _ = try key.versionForWriting(nil, now: 10_000)
            Issue.record("an expired key must refuse")
        } catch {
            #expect(error.code == .keyExpired)
        }
    }

    @Test func base64URLHasOneEncodingPerValue() {
        for length in 0..<8 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 250) }
            let text = Base64.encodeURL(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64.decodeURL(text) == bytes)
        }
        #expect(Base64.decodeURL("-_8") == [0xfb, 0xff])
        for refused in ["+_8", "-_8=", "-_9", "a", " -_8", "-_8\n"] {
            #expect(Base64.decodeURL(refused) == nil, "\(refused)")
        }
    }
}

import Crypto
import Foundation
import Testing

@testable import CofferCore

/// Known-answer tests from PyPI's `cryptography_vectors` (NIST ACVP-style KAT files), extracted into
/// `Tests/Vectors/`: they pin Coffer's stored material (seeds) to the FIPS 203 / FIPS 204 keys they denote.
@Suite("Post-quantum known answers")
struct PostQuantumKATTests {
    struct Vectors: Decodable {
        let source: String
        let vectors: [[String: String]]
    }

    static func load(_ name: String) throws -> Vectors {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/\(name)")
        return try JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }

    static func bytes(_ vector: [String: String], _ field: String) throws -> [UInt8] {
        try #require(vector[field].map(TransitCipherTests.hex), "missing \(field)")
    }

    @Test func mlKEM768KeysAndDecapsulationMatchTheKAT() throws {
        let file = try Self.load("mlkem768_kat.json")
        #expect(file.vectors.count == 3)
        for vector in file.vectors {
            let seed = try Self.bytes(vector, "d") + Self.bytes(vector, "z")
            #expect(try TransitCipher.publicKey(type: .mlKEM768, material: seed) == Self.bytes(vector, "pk"), "Coffer's seed is FIPS 203's d ‖ z")
            let key = try MLKEM768.PrivateKey(seedRepresentation: seed, publicKey: nil)
            #expect(Array(try key.decapsulate(Data(try Self.bytes(vector, "ct"))).withUnsafeBytes { Array($0) }) == (try Self.bytes(vector, "ss")))
            let rejected = try key.decapsulate(Data(try Self.bytes(vector, "ct_n"))).withUnsafeBytes { Array($0) }
            #expect(rejected == (try Self.bytes(vector, "ss_n")), "implicit rejection of a malformed ciphertext")
        }
    }

    @Test func mlDSA65KeysAndSignaturesMatchTheKAT() throws {
        let file = try Self.load("mldsa65_kat.json")
        #expect(file.vectors.count == 3)
        for vector in file.vectors {
            let xi = try Self.bytes(vector, "xi")
            let publicKey = try Self.bytes(vector, "pk")
            #expect(try TransitCipher.publicKey(type: .mlDSA65, material: xi) == publicKey, "Coffer's seed is FIPS 204's ξ")
            let message = try Self.bytes(vector, "msg")
            let signed = try Self.bytes(vector, "sm")
            let signature = Array(signed[..<(signed.count - message.count)])
            #expect(signature.count == 3309)
            let key = try MLDSA65.PublicKey(rawRepresentation: publicKey)
            let context = try Self.bytes(vector, "ctx")
            #expect(key.isValidSignature(signature, for: message, context: context))
            var tampered = signature
            tampered[100] ^= 1
            #expect(!key.isValidSignature(tampered, for: message, context: context))
            #expect(!TransitCipher.verify(signature, message: message, type: .mlDSA65, publicKey: publicKey), "transit signs with an empty context")
        }
    }
}

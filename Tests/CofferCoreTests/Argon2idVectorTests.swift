import CofferTestSupport
import Foundation
import Testing

@testable import CofferCore

/// RFC 9106 §5.3 test vector for Argon2id (version 0x13), run through Debian's libargon2.
@Suite("Argon2id RFC 9106 vector")
struct Argon2idVectorTests {
    @Test func rfc9106Argon2idVector() throws {
        let parameters = Argon2id(memoryKiB: 32, iterations: 3, parallelism: 4)
        let tag = try parameters.derive(
            password: [UInt8](repeating: 0x01, count: 32), salt: [UInt8](repeating: 0x02, count: 16),
            secret: [UInt8](repeating: 0x03, count: 8), associatedData: [UInt8](repeating: 0x04, count: 12), length: 32)
        let expected = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
        #expect(tag.map { String(format: "%02x", $0) }.joined() == expected)
    }

    @Test func invalidParametersAreAnErrorNotACrash() {
        expectError(.configInvalid) {
            _ = try Argon2id(memoryKiB: 1, iterations: 0, parallelism: 1).derive(password: [1], salt: [UInt8](repeating: 2, count: 16))
        }
    }
}

import CofferCore
import Foundation
import Testing

@Suite("CLI: transit, policy, protect, unprotect")
struct TransitCommandTests {
    @Test func encryptSignProtectThroughTheBinary() throws {
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { server.stop() }
        func coffer(_ arguments: [String], stdin: String? = nil) throws -> CofferBinary.Result {
            try CofferBinary.run(arguments, home: directory + "/home", env: ["COFFER_ADDR": server.address], stdin: stdin)
        }
        #expect(try coffer(["transit", "create", "payments"]).status == 0)
        #expect(try coffer(["transit", "create", "approvals", "--type", "ml-dsa-65"]).status == 0)
        #expect(try coffer(["transit", "list"]).stdout == "approvals\npayments\n")
        let ciphertext = try coffer(["transit", "encrypt", "payments"], stdin: "card 4111 1111 1111 1111").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ciphertext.hasPrefix("vault:v1:") && !ciphertext.contains("4111"))
        #expect(try coffer(["transit", "decrypt", "payments"], stdin: ciphertext).stdout == "card 4111 1111 1111 1111")
        #expect(try coffer(["transit", "rotate", "payments"]).stdout == "latest version 2\n")
        let broken = try coffer(["transit", "decrypt", "payments"], stdin: String(ciphertext.dropLast(3)) + "AA=")
        #expect(broken.status == 1 && broken.stderr.contains("DECRYPTION_FAILED") && broken.stderr.contains("request id"))

        let signature = try coffer(["transit", "sign", "approvals"], stdin: "release 1.2.3").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try coffer(["transit", "verify", "approvals", "--signature", signature], stdin: "release 1.2.3").status == 0)
        #expect(try coffer(["transit", "verify", "approvals", "--signature", signature], stdin: "release 1.2.4").status == 1)

        #expect(
            try coffer([
                "policy", "put", "BANK-TRANSFER-PROD-001", "--mode", "sign-then-encrypt", "--signing-key", "approvals", "--encryption-key",
                "payments",
            ]).status == 0)
        try "{\"amount\": 100, \"to\": \"DE89\"}".write(toFile: directory + "/transfer.json", atomically: true, encoding: .utf8)
        let protected = try coffer(["protect", "--policy", "BANK-TRANSFER-PROD-001", "--json", "--file", directory + "/transfer.json"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(protected.hasPrefix("cfp1.") && !protected.contains("DE89"))
        #expect(try coffer(["unprotect", "--policy", "BANK-TRANSFER-PROD-001"], stdin: protected).stdout == "{\"amount\":100,\"to\":\"DE89\"}\n")
        let forged = try coffer(
            ["unprotect", "--policy", "BANK-TRANSFER-PROD-001"], stdin: protected.replacingOccurrences(of: "cfp1.e", with: "cfp1.f"))
        #expect(forged.status == 1 && forged.stderr.contains("SIGNATURE_INVALID") && !forged.stderr.contains("DE89"))
        let raw = try coffer(["protect", "--policy", "BANK-TRANSFER-PROD-001"], stdin: "plain bytes").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(try coffer(["unprotect", "--policy", "BANK-TRANSFER-PROD-001"], stdin: raw).stdout == "plain bytes")
        #expect(try coffer(["unprotect", "--policy", "NOPE"], stdin: raw).stderr.contains("POLICY_NOT_FOUND"))
    }
}

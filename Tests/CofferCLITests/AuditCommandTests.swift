import CofferCore
import Foundation
import Testing

@Suite("CLI: coffer audit")
struct AuditCommandTests {
    @Test func checkpointVerifyExportTailReportAndDetectTruncation() throws {
        let directory = try CofferBinary.scratch()
        let home = directory + "/home"
        let server = try ServerProcess.start(["dev", "--port", "0", "--audit-file", directory + "/audit.jsonl"], directory: directory)
        defer { server.stop() }
        let env = ["COFFER_ADDR": server.address]
        func coffer(_ arguments: [String]) throws -> CofferBinary.Result { try CofferBinary.run(arguments, home: home, env: env) }
        for index in 0..<5 { #expect(try coffer(["kv", "put", "p\(index)", "v=audited-secret"]).status == 0) }

        let checkpoint = try coffer(["audit", "checkpoint", "--out", directory + "/checkpoints.jsonl"])
        #expect(checkpoint.status == 0 && checkpoint.stdout.contains("sequence 5"), "\(checkpoint.stderr)")
        let verified = try coffer(["audit", "verify", "--checkpoints", directory + "/checkpoints.jsonl"])
        #expect(verified.status == 0 && verified.stdout.hasPrefix("OK:") && verified.stdout.contains("1 checkpoints matched"), "\(verified.stdout)")

        let export = try coffer(["audit", "export", "--since", "1d"])
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count >= 7 && !export.stdout.contains("audited-secret"))
        #expect(JSONValue.parse(Array(lines[0].utf8))?["operation"] == "kv.write")
        #expect(try coffer(["audit", "export", "--operation", "kv.write"]).stdout.split(separator: "\n").count == 5)

        let tail = try coffer(["audit", "tail", "--last", "2", "--count", "2"])
        #expect(tail.status == 0 && tail.stdout.split(separator: "\n").count == 2)
        let report = try coffer(["audit", "report", "--period", "1d"])
        #expect(report.stdout.contains("kv.write: 5") && report.stdout.contains("aes-256-gcm: 5"))

        let sunk = try String(contentsOfFile: directory + "/audit.jsonl", encoding: .utf8)
        #expect(sunk.split(separator: "\n").count >= 8 && !sunk.contains("audited-secret"))

        // An attacker with the database file removes the newest entries and moves the head back.
        let sql = """
            UPDATE audit_gate SET open = 1;
            DELETE FROM audit_entries WHERE sequence > 3 AND tenant_id = (SELECT id FROM tenants WHERE name = 'root');
            UPDATE audit_heads SET sequence = 3, head_hash = (SELECT entry_hash FROM audit_entries WHERE sequence = 3
              AND tenant_id = (SELECT id FROM tenants WHERE name = 'root')) WHERE tenant_id = (SELECT id FROM tenants WHERE name = 'root');
            UPDATE audit_gate SET open = 0;
            """
        let tampered = try CofferBinary.runProgram(
            "/usr/bin/env", ["sqlite3", directory + "/.coffer/coffer.db", sql], environment: ProcessInfo.processInfo.environment)
        #expect(tampered.status == 0, "\(tampered.stderr)")
        let plain = try coffer(["audit", "verify"])
        #expect(plain.status == 0, "without a checkpoint a consistent truncation looks fine")
        let caught = try coffer(["audit", "verify", "--checkpoints", directory + "/checkpoints.jsonl"])
        #expect(caught.status == 1 && caught.stdout.contains("BROKEN") && caught.stdout.contains("truncated"), "\(caught.stdout)")

        let viewer = try coffer(["token", "create", "--role", "viewer", "--quiet"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let denied = try CofferBinary.run(["audit", "export"], home: home, env: ["COFFER_ADDR": server.address, "COFFER_TOKEN": viewer])
        #expect(denied.status == 1 && denied.stderr.contains("PERMISSION_DENIED"))
    }
}

import CofferCore
import Foundation
import Testing

/// Durability that a process kill cannot fake (the page cache survives `kill -9`, so a write kept only
/// there passes a kill test with `synchronous=OFF`). Here the kernel is asked: the write's sync must
/// complete before the first response byte is sent, and a sync that fails must refuse the write.
/// The tools come from Debian (`strace`, `fiu-utils`); `.ci/run` installs them, and under CI a missing
/// tool is a failure, not a skip.
@Suite("CLI: durability proven with strace and libfiu")
struct DurabilityTests {
    static func tool(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)", "/usr/local/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// A PUT through curl; returns the status line's code and the response headers.
    static func put(_ address: String, token: String, path: String, value: String) throws -> (status: Int, headers: String) {
        let reply = try CofferBinary.runProgram(
            "/usr/bin/curl",
            [
                "-s", "-D", "-", "-o", "/dev/null", "-X", "PUT", "-H", "X-Vault-Token: \(token)", "-d", #"{"data":{"v":"\#(value)"}}"#,
                address + "/v1/secret/data/\(path)",
            ], environment: [:])
        let status = reply.stdout.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, reply.stdout)
    }

    @Test(.enabled(if: tool("strace") != nil || inCI, "strace is not installed (apt-get install strace)"))
    func theSyncCompletesBeforeTheResponseIsSent() throws {
        let strace = try #require(Self.tool("strace"), "CI installs strace")
        let directory = try CofferBinary.scratch()
        let trace = directory + "/trace.txt"
        let server = try ServerProcess.start(
            ["dev", "--port", "0"], directory: directory,
            under: [strace, "-f", "-y", "-s", "400", "-e", "trace=fsync,fdatasync,write,writev,sendmsg,sendto,read,recvfrom", "-o", trace])
        defer { server.stop() }
        let token = try #require(server.rootToken)
        let marker = "durable-\(UUID().uuidString.prefix(8))"
        let (status, headers) = try Self.put(server.address, token: token, path: marker, value: "kept")
        #expect(status == 200)
        let requestID = try #require(
            headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("x-request-id:") }?.split(separator: " ").last.map(String.init))
        usleep(300_000)
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        let received = try #require(lines.firstIndex { $0.contains("PUT /v1/secret/data/\(marker)") }, "the request is read from the socket")
        let answered = try #require(
            lines.firstIndex {
                ($0.contains("writev(") || $0.contains("write(") || $0.contains("sendmsg(")) && $0.contains(requestID) && $0.contains("socket:")
            },
            "the response is written to the socket")
        #expect(received < answered)
        // A completed sync of the database or its write-ahead log between the two: a finished call
        // (`fsync(…coffer.db-wal>) = 0`) or the resumption of one that was interrupted by another thread.
        var synced = false
        var unfinished: Set<Substring> = []  // threads with a sync of coffer.db still in progress
        for line in lines[received..<answered] {
            let thread = line.split(separator: " ").first ?? ""
            if line.contains("sync(") && line.contains(".coffer/coffer.db") {
                if line.hasSuffix("= 0") { synced = true } else if line.contains("<unfinished") { unfinished.insert(thread) }
            } else if line.contains("sync resumed>") && line.hasSuffix("= 0") && unfinished.contains(thread) {
                synced = true
            }
        }
        #expect(synced, "no completed fsync/fdatasync of coffer.db between reading the write and answering it")
    }

    @Test(.enabled(if: tool("fiu-run") != nil || inCI, "libfiu is not installed (apt-get install fiu-utils)"))
    func aFailedSyncRefusesTheWriteAndLosesNothing() throws {
        let fiuRun = try #require(Self.tool("fiu-run"), "CI installs fiu-utils")
        let fiuCtrl = try #require(Self.tool("fiu-ctrl"))
        let directory = try CofferBinary.scratch()
        let server = try ServerProcess.start(["dev", "--port", "0"], directory: directory, under: [fiuRun, "-x"])
        let token = try #require(server.rootToken)
        #expect(try Self.put(server.address, token: token, path: "f", value: "one").status == 200)

        let pid = String(server.process.processIdentifier)
        #expect(try CofferBinary.runProgram(fiuCtrl, ["-c", "enable name=posix/io/sync/*", pid], environment: [:]).status == 0)
        let refused = try Self.put(server.address, token: token, path: "f", value: "two")
        #expect(refused.status == 503, "a write whose sync failed is refused: \(refused.headers)")
        #expect(try CofferBinary.runProgram(fiuCtrl, ["-c", "disable name=posix/io/sync/*", pid], environment: [:]).status == 0)

        // Nothing refused became visible, before or after a crash; the store still takes writes.
        let home = directory + "/home"
        let before = try CofferBinary.run(["kv", "get", "f", "--field", "v"], home: home, env: ["COFFER_ADDR": server.address])
        #expect(before.stdout == "one\n")
        server.kill9()
        let restarted = try ServerProcess.start(["dev", "--port", "0"], directory: directory)
        defer { restarted.stop() }
        let after = try CofferBinary.run(["kv", "get", "f", "--field", "v"], home: home, env: ["COFFER_ADDR": restarted.address])
        #expect(after.stdout == "one\n")
        #expect(try Self.put(restarted.address, token: token, path: "f", value: "three").status == 200)
        let history = try CofferBinary.run(["kv", "get", "f", "--field", "v"], home: home, env: ["COFFER_ADDR": restarted.address])
        #expect(history.stdout == "three\n")
    }
}

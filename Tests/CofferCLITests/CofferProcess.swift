import CofferCore
import CofferTestSupport
import Foundation
import Synchronization

/// Runs the built `coffer` binary the way a user would.
enum CofferBinary {
    /// `COFFER_BIN`, else `coffer` beside the test bundle, else `.build/debug/coffer` under the package.
    static let path: String = {
        if let explicit = ProcessInfo.processInfo.environment["COFFER_BIN"] { return explicit }
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("coffer").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.appendingPathComponent(".build/debug/coffer").path
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A scratch directory with its own HOME, so token files never touch the real one.
    static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "coffer-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory + "/home", withIntermediateDirectories: true)
        return directory
    }

    /// The environment for a child: this process's, minus Coffer/Vault settings, plus `extra`.
    static func environment(home: String, _ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COFFER_") && !$0.key.hasPrefix("VAULT_") }
        environment["HOME"] = home
        environment.removeValue(forKey: "XDG_CONFIG_HOME")
        return environment.merging(extra) { $1 }
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `coffer args…` to completion.
    static func run(_ arguments: [String], home: String, env: [String: String] = [:], stdin: String? = nil, cwd: String? = nil) throws -> Result {
        try runProgram(path, arguments, environment: environment(home: home, env), stdin: stdin, cwd: cwd)
    }

    static func runProgram(
        _ program: String, _ arguments: [String], environment: [String: String], stdin: String? = nil, cwd: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = input
        try process.runSerially()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A `coffer dev` (or `serve`) server process.
final class ServerProcess: Sendable {
    let process: Process
    let stdoutPath: String
    let stderrPath: String
    let address: String
    let rootToken: String?
    let startSeconds: Double

    private init(process: Process, stdoutPath: String, stderrPath: String, address: String, rootToken: String?, startSeconds: Double) {
        self.process = process
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
        self.address = address
        self.rootToken = rootToken
        self.startSeconds = startSeconds
    }

    /// Starts `coffer <arguments>` in `directory` and waits until it reports its address.
    static func start(
        _ arguments: [String], directory: String, env: [String: String] = [:], readyMarker: String = "Ready.", under wrapper: [String] = []
    ) throws -> ServerProcess {
        let stdoutPath = directory + "/server-\(UUID().uuidString.prefix(6)).out"
        let stderrPath = stdoutPath + ".err"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        // A wrapper (strace, fiu-run) runs the server: `wrapper… coffer arguments…`.
        process.executableURL = URL(fileURLWithPath: wrapper.first ?? CofferBinary.path)
        process.arguments = wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [CofferBinary.path] + arguments
        process.environment = CofferBinary.environment(home: directory + "/home", env)
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        let started = Date()
        try process.runSerially()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            let text = out + err
            if text.contains(readyMarker), let address = firstMatch(in: text, prefix: "http://") ?? firstMatch(in: text, prefix: "https://") {
                let token = out.contains("Root token: ") ? firstMatch(in: out, prefix: "cft_") : nil
                return ServerProcess(
                    process: process, stdoutPath: stdoutPath, stderrPath: stderrPath, address: address, rootToken: token,
                    startSeconds: Date().timeIntervalSince(started))
            }
            if !process.isRunning {
                throw CofferError(.internalError, "server exited with \(process.terminationStatus): \(err)")
            }
            usleep(10_000)
        }
        process.terminate()
        throw CofferError(.internalError, "server did not become ready")
    }

    static func firstMatch(in text: String, prefix: String) -> String? {
        guard let range = text.range(of: prefix) else { return nil }
        let rest = text[range.upperBound...]
        let end = rest.firstIndex(where: { $0 == "\n" || $0 == " " || $0 == "\"" || $0 == "," }) ?? rest.endIndex
        return prefix + String(rest[..<end])
    }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    /// SIGTERM and wait. A server run under a wrapper (strace) gets the signal itself, and the wrapper
    /// exits with it.
    func stop() {
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        for child in children.split(separator: " ").compactMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            kill(child, SIGTERM)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// SIGKILL and wait: no chance to flush anything.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// File mode bits of a path.
func fileMode(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int(info.st_mode & 0o777)
}

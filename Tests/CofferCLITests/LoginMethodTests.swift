import CofferCore
import Foundation
import Testing

/// `coffer login --method userpass|approle`: the credential on standard input, the session saved to
/// the token file, and refusals that never repeat what was typed.
@Suite("CLI: login through auth methods")
struct LoginMethodTests {
    @Test func userpassAndAppRoleSessionsAreSaved() throws {
        let s = try ClientCommandTests.session()
        defer { s.server.stop() }
        let root = try #require(s.server.rootToken)
        func curl(_ method: String, _ path: String, _ body: String) throws -> String {
            try CofferBinary.runProgram(
                "/usr/bin/env", ["curl", "-sf", "-X", method, "-H", "X-Vault-Token: \(root)", "-d", body, s.server.address + path],
                environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"]
            ).stdout
        }
        _ = try curl("POST", "/v1/sys/auth/userpass", #"{"type":"userpass"}"#)
        _ = try curl("POST", "/v1/auth/userpass/users/alice", #"{"password":"correct horse battery staple","token_policies":["modifier"]}"#)
        let login = try s.coffer(["login", "--method", "userpass", "--username", "alice"], stdin: "correct horse battery staple\n")
        #expect(login.status == 0 && login.stdout.contains("Logged in: role modifier in tenant root"), "\(login.stdout) \(login.stderr)")
        #expect(try s.coffer(["kv", "put", "from/alice", "A=1"]).status == 0, "the saved session works")
        let wrong = try s.coffer(["login", "--method", "userpass", "--username", "alice"], stdin: "hunter2-wrong-password\n")
        #expect(wrong.status == 1 && wrong.stderr.contains("LOGIN_FAILED") && !wrong.stderr.contains("hunter2"))
        let missing = try s.coffer(["login", "--method", "userpass"], stdin: "x\n")
        #expect(missing.status != 0 && missing.stderr.contains("--username"))

        _ = try curl("POST", "/v1/sys/auth/approle", #"{"type":"approle"}"#)
        _ = try curl("POST", "/v1/auth/approle/role/ci", #"{"token_policies":["viewer"]}"#)
        let roleID = try #require(
            JSONValue.parse(Array(try curl("GET", "/v1/auth/approle/role/ci/role-id", "").utf8))?["data"]?["role_id"]?.stringValue)
        let secretID = try #require(
            JSONValue.parse(Array(try curl("POST", "/v1/auth/approle/role/ci/secret-id", "{}").utf8))?["data"]?["secret_id"]?.stringValue)
        let machine = try s.coffer(["login", "--method", "approle", "--role-id", roleID], stdin: secretID + "\n")
        #expect(machine.status == 0 && machine.stdout.contains("Logged in: role viewer"), "\(machine.stdout) \(machine.stderr)")
        #expect(try s.coffer(["kv", "put", "from/machine", "A=1"]).stderr.contains("PERMISSION_DENIED"), "now a viewer")
        #expect(try s.coffer(["login", "--method", "ldap"], stdin: "x\n").stderr.contains("--method must be"))
    }
}

import CofferCLI
import CofferCore
import CofferServer
import Testing

/// `coffer.toml` through TOMLKit: real TOML, and every mistake an error that names where it is.
@Suite("Configuration file")
struct ConfigFileTests {
    @Test func tablesDottedKeysAndCommentsLoad() throws {
        var configuration = ServerConfiguration()
        let text = """
            # Coffer
            storage.url = "postgres://coffer@db/coffer"   # dotted key
            [listen]
            host = "0.0.0.0"
            port = 8300
            [audit]
            enabled = true
            [secrets]
            env_references = ["DB_*", "API_KEY"]
            """
        try ConfigFile.apply(try ConfigFile.parse(text), to: &configuration)
        #expect(configuration.host == "0.0.0.0" && configuration.port == 8300)
        #expect(configuration.storageURL == "postgres://coffer@db/coffer")
        #expect(configuration.envReferencePatterns == ["DB_*", "API_KEY"])
    }

    @Test(arguments: [
        ("port = 1\nport = 2\n", "line 2"),
        ("[listen]\nport = 1\n[listen]\nhost = \"x\"\n", "line 3"),
        ("port = \n", "line 1"),
        ("host = \"unterminated\n", "line 1"),
    ])
    func malformedTOMLNamesTheLine(text: String, line: String) {
        let error = #expect(throws: CofferError.self) { try ConfigFile.parse(text) }
        #expect(error?.code == .configInvalid)
        #expect(error?.message.contains(line) == true, "\(error?.message ?? "")")
    }

    @Test(arguments: [
        ("[listen]\nport = \"8200\"\n", "listen.port must be an integer"),
        ("[audit]\nenabled = \"yes\"\n", "audit.enabled must be true or false"),
        ("[limits]\nmax_body_bytes = 1.5\n", "limits.max_body_bytes must be a string, integer, boolean or array, not a floating-point number"),
        ("[secrets]\nenv_references = [\"A\", 1]\n", "secrets.env_references must be an array of strings"),
        ("[storage]\nurll = \"sqlite::memory:\"\n", "unknown configuration key storage.urll"),
    ])
    func wrongTypesAndUnknownKeysNameTheKey(text: String, message: String) {
        var configuration = ServerConfiguration()
        let error = #expect(throws: CofferError.self) { try ConfigFile.apply(try ConfigFile.parse(text), to: &configuration) }
        #expect(error?.code == .configInvalid && error?.message == message, "\(error?.message ?? "")")
    }

    @Test func secretsInValuesAreNeverEchoed() {
        var configuration = ServerConfiguration()
        let error = #expect(throws: CofferError.self) {
            try ConfigFile.apply(try ConfigFile.parse("[storage]\nurl = 42\nurl_secret = \"postgres://u:hunter2@db\"\n"), to: &configuration)
        }
        #expect(error?.message.contains("hunter2") == false)
    }
}

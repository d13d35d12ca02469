import CofferCore
import CofferServer

/// `coffer scan --format sarif`: SARIF 2.1.0, as GitHub code scanning and other tools upload it. Each
/// result names the rule, the file, line and column, the masked credential, and a fingerprint (SHA-256
/// of the credential, so the same leak is recognised across runs without the value).
enum SARIFReport {
    /// The rule id of a kind.
    static func ruleID(_ kind: LeakScanner.Kind) -> String {
        switch kind {
        case .apiKey: "coffer/api-key"
        case .publishableKey: "coffer/publishable-key"
        case .token: "coffer/token"
        case .secretID: "coffer/approle-secret-id"
        }
    }

    /// The SARIF level: publishable keys are meant for browsers (`warning`); everything else is an `error`.
    static func level(_ kind: LeakScanner.Kind) -> String {
        kind == .publishableKey ? "warning" : "error"
    }

    /// The whole log.
    static func log(_ findings: [ScanFinding]) -> JSONValue {
        let rules: [JSONValue] = LeakScanner.Kind.allCases.map { kind in
            [
                "id": .string(ruleID(kind)), "name": .string(kind.title.replacingOccurrences(of: " ", with: "")),
                "shortDescription": ["text": .string("\(kind.title) committed to the repository")],
                "fullDescription": [
                    "text": .string(
                        "A \(kind.title) was found. Revoke it (coffer scan --revoke, or coffer keys revoke) and remove it from the history.")
                ],
                "defaultConfiguration": ["level": .string(level(kind))],
            ]
        }
        let results: [JSONValue] = findings.map { item in
            var result: [String: JSONValue] = [
                "ruleId": .string(ruleID(item.finding.kind)), "level": .string(level(item.finding.kind)),
                "message": ["text": .string("\(item.finding.kind.title) \(item.finding.masked)")],
                "locations": [
                    [
                        "physicalLocation": [
                            "artifactLocation": ["uri": .string(item.path)],
                            "region": ["startLine": .int(item.finding.line), "startColumn": .int(item.finding.column)],
                        ]
                    ]
                ],
                "partialFingerprints": ["cofferCredentialSha256/v1": .string(item.finding.fingerprint)],
            ]
            if let commit = item.commit { result["properties"] = ["commit": .string(commit)] }
            return .object(result)
        }
        return [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [
                [
                    "tool": [
                        "driver": [
                            "name": "coffer-scan", "version": .string(SysController.version), "rules": .array(rules),
                        ]
                    ],
                    "results": .array(results),
                ]
            ],
        ]
    }
}

/// Aggregates audit entries for `coffer audit report`: operations by type, failures, failed
/// authentications, signature failures and algorithm distribution (a pure accumulator).
public struct AuditReport: Sendable {
    /// Entries seen.
    public private(set) var total = 0
    /// Count per operation.
    public private(set) var operations: [String: Int] = [:]
    /// Failures per operation.
    public private(set) var failures: [String: Int] = [:]
    /// Failed authentications (`auth.failed`, `auth.tenant_mismatch`).
    public private(set) var failedAuthentications = 0
    /// Failed signature verifications.
    public private(set) var signatureFailures = 0
    /// Count per algorithm used.
    public private(set) var algorithms: [String: Int] = [:]
    /// Count per actor id.
    public private(set) var actors: [String: Int] = [:]

    /// An empty report.
    public init() {}

    /// Adds one record.
    public mutating func add(_ record: AuditRecord) {
        total += 1
        operations[record.operation, default: 0] += 1
        if !record.succeeded { failures[record.operation, default: 0] += 1 }
        if record.operation.hasPrefix("auth.") { failedAuthentications += 1 }
        if record.errorCode == "SIGNATURE_INVALID" || record.operation == "signature.failed" { signatureFailures += 1 }
        if let algorithm = record.details["algorithm"] { algorithms[algorithm, default: 0] += 1 }
        if !record.actor.id.isEmpty { actors[record.actor.id, default: 0] += 1 }
    }

    /// The report as JSON.
    public var json: JSONValue {
        [
            "entries": .int(total), "operations": .object(operations.mapValues { .int($0) }), "failures": .object(failures.mapValues { .int($0) }),
            "failed_authentications": .int(failedAuthentications), "signature_failures": .int(signatureFailures),
            "algorithms": .object(algorithms.mapValues { .int($0) }), "actors": .object(actors.mapValues { .int($0) }),
        ]
    }
}

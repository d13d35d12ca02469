import CofferCore

/// Names the operation of the current request for its audit entry.
enum Audited {
    /// Sets operation, resource type and id (and details) on the request's audit scope.
    static func describe(_ operation: String, _ resourceType: String, _ resourceID: String, _ details: [String: String] = [:]) {
        AuditScope.current?.describe(operation: operation, resourceType: resourceType, resourceID: resourceID, details: details)
    }
}

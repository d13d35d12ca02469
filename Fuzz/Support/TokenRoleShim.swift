/// Stands in for the CofferCore types `Role.swift` and `Mount.swift` mention but the token-role target
/// does not exercise (the verifier's requirement, the unit of work a store write takes).
public enum APIKeyVerifier {
    public struct Requirement: Sendable, Hashable {
        public var resource: String
        public var action: String
        public var target: String?
        public init(resource: String, action: String, target: String? = nil) {
            self.resource = resource
            self.action = action
            self.target = target
        }
    }
}

public final class UnitOfWork: Sendable {}

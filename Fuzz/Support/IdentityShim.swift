/// Stands in for what the identity files mention but the JWT-claims target does not exercise
/// (Argon2id's key derivation, secure randomness).
public struct Argon2id: Sendable, Hashable {
    public var memoryKiB: UInt32
    public var iterations: UInt32
    public var parallelism: UInt32
    public init(memoryKiB: UInt32, iterations: UInt32, parallelism: UInt32) {
        self.memoryKiB = memoryKiB
        self.iterations = iterations
        self.parallelism = parallelism
    }
    public func derive(password: [UInt8], salt: [UInt8], length: Int = 32) throws(CofferError) -> [UInt8] { [UInt8](repeating: 0, count: length) }
}

public enum Base64 {
    public static func encode(_ bytes: some Collection<UInt8>) -> String { "" }
    public static func decode(_ text: String) -> [UInt8]? { nil }
}

public enum ConstantTime {
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool { Array(lhs) == Array(rhs) }
}

public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] { [UInt8](repeating: 0, count: count) }
}

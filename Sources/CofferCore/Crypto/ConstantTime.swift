/// Comparisons whose running time does not depend on where inputs differ.
public enum ConstantTime {
    /// Whether `lhs` equals `rhs`, inspecting every byte when the lengths match.
    public static func equals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}

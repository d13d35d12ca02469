/// API-key scopes and their matching: never a crash; a parsed scope prints to text that parses to the
/// same scope; a scope always covers itself and allows its own pattern's target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (first, second) = FuzzInput(start, count).twoTexts
    guard let scope = Scope(first) else { return 0 }
    require(Scope(scope.description) == scope, "scope does not round-trip: \(scope)")
    require(scope.covers(scope), "a scope does not cover itself")
    _ = scope.allows(resource: scope.resource, action: scope.action, target: second)
    if let other = Scope(second) { _ = scope.covers(other) }
    if let pattern = scope.pattern, !pattern.hasSuffix("*") {
        require(scope.allows(resource: scope.resource, action: scope.action, target: pattern), "a scope refuses its own target")
    }
    return 0
}

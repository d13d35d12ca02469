/// Stands in for CofferCore's `RateLimitStatus` (referenced by `CofferError`), so targets can compile
/// `CofferError.swift` without the rate limiter.
public struct RateLimitStatus: Sendable, Hashable {}

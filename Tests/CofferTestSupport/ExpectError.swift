import CofferCore
import Testing

/// Expects `body` to throw a `CofferError` with exactly `code` (not "some error"); records an issue
/// naming what happened otherwise. Returns the error for further checks of its message.
@discardableResult
public func expectError<R>(
    _ code: ErrorCode, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> R
) async -> CofferError? {
    do {
        _ = try await body()
        return judge(nil, code, comment, sourceLocation)
    } catch {
        return judge(error, code, comment, sourceLocation)
    }
}

/// The synchronous form of ``expectError(_:_:sourceLocation:_:)-async``.
@discardableResult
public func expectError<R>(
    _ code: ErrorCode, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) -> CofferError? {
    do {
        _ = try body()
        return judge(nil, code, comment, sourceLocation)
    } catch {
        return judge(error, code, comment, sourceLocation)
    }
}

/// Records an issue unless `error` is a `CofferError` with `code`; returns it when it is a `CofferError`.
private func judge(_ error: (any Error)?, _ code: ErrorCode, _ comment: Comment?, _ location: SourceLocation) -> CofferError? {
    let suffix = comment.map { ": \($0)" } ?? ""
    guard let error else {
        Issue.record("expected \(code.rawValue), nothing was thrown\(suffix)", sourceLocation: location)
        return nil
    }
    guard let coffer = error as? CofferError else {
        Issue.record("expected \(code.rawValue), got \(type(of: error))\(suffix)", sourceLocation: location)
        return nil
    }
    if coffer.code != code { Issue.record("expected \(code.rawValue), got \(coffer)\(suffix)", sourceLocation: location) }
    return coffer
}

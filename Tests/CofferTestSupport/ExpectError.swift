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
        Issue.record("expected \(code.rawValue), nothing was thrown\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch let error as CofferError {
        if error.code != code {
            Issue.record("expected \(code.rawValue), got \(error)\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected \(code.rawValue), got \(type(of: error))\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    }
    return nil
}

/// The synchronous form of ``expectError(_:_:sourceLocation:_:)-async``.
@discardableResult
public func expectError<R>(
    _ code: ErrorCode, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> R
) -> CofferError? {
    do {
        _ = try body()
        Issue.record("expected \(code.rawValue), nothing was thrown\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    } catch let error as CofferError {
        if error.code != code {
            Issue.record("expected \(code.rawValue), got \(error)\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected \(code.rawValue), got \(type(of: error))\(comment.map { ": \($0)" } ?? "")", sourceLocation: sourceLocation)
    }
    return nil
}

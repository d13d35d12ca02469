import Synchronization

/// Waits for an operation at most a given time. Unlike a task group, which cannot return before every
/// child has finished, the caller is resumed when the time is up even if the operation never returns
/// (a database call stuck on a connection that died): the operation is then cancelled and left to end
/// on its own, and the caller gets `error`.
public enum Deadline {
    /// Whoever comes first — the operation's result or the timer — resumes the caller, once.
    private final class Race<T: Sendable>: Sendable {
        let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let timer = Mutex<Task<Void, Never>?>(nil)

        func finish(_ result: Result<T, any Error>) {
            pending.withLock { $0.take() }?.resume(with: result)
        }
    }

    /// Runs `operation`, throwing `error` if it has not finished within `limit`.
    public static func run<T: Sendable>(
        within limit: Duration, orThrow error: @escaping @Sendable () -> any Error,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.pending.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                race.timer.withLock { $0?.cancel() }
                race.finish(result)
            }
            let clock = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                work.cancel()
                race.finish(.failure(error()))
            }
            race.timer.withLock { $0 = clock }
            // The operation may have finished before the timer was stored: then stop the timer now.
            if race.pending.withLock({ $0 == nil }) { clock.cancel() }
        }
    }
}

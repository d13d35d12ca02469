import Synchronization

/// A gate a test holds shut: `pass()` waits until `open()` (at once once it is open), and `arrivals`
/// counts every caller, so a test can see how many are held at a time.
public final class Gate: Sendable {
    private let state = Mutex((arrivals: 0, open: false, waiting: [CheckedContinuation<Void, Never>]()))

    /// Creates a shut gate.
    public init() {}

    /// How many callers have reached the gate so far.
    public var arrivals: Int { state.withLock { $0.arrivals } }

    /// Counts this caller and waits until the gate is open.
    public func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let through = state.withLock { state -> Bool in
                state.arrivals += 1
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if through { continuation.resume() }
        }
    }

    /// Opens the gate for every caller, waiting or to come.
    public func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

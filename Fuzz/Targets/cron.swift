/// Rotation schedules (a tenant admin's `schedule` text): parsing never crashes or hangs, a parsed
/// schedule's next run is a whole minute strictly after the time asked and matches the schedule again
/// from just before it, and every error is one of the parser's fixed messages (so none repeats the text).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let text = String(decoding: input.bytes, as: UTF8.self)
    do {
        let schedule = try CronSchedule(text)
        let now: Int64 = 1_790_000_000_000 + Int64(count) * 7_919_000
        guard let next = schedule.next(after: now) else {
            require(false, "a parsed schedule never runs")
            return 0
        }
        require(next > now && next % 60_000 == 0, "the next run is not a later whole minute")
        require(schedule.next(after: next - 1) == next, "the next run is not stable")
    } catch {
        require(knownMessages.contains(error.message), "an error that is not one of the fixed messages")
    }
    return 0
}

/// The parser's messages, collected from inputs that fail each check once.
let knownMessages: Set<String> = {
    let failing = [
        "x", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "0 0 30 2 *", String(repeating: "1", count: 201),
    ]
    return Set(failing.compactMap { text -> String? in
        do {
            _ = try CronSchedule(text)
            return nil
        } catch {
            return (error as? CofferError)?.message
        }
    })
}()

import CofferCore
import Foundation

/// Shows a re-encryption job's progress: on a terminal one bar redrawn in place
/// (`[#####-----]  50.0%  500/1000 rows  12000 rows/s  ETA 1s`), otherwise a plain line each time the
/// figures change (logs and CI stay readable).
struct JobProgressView {
    let terminal: Bool
    private var last = ""

    /// A view for a terminal or a plain stream.
    init(terminal: Bool) { self.terminal = terminal }

    /// The progress line of a job's JSON (`GET /v1/sys/keyring/jobs/<id>`).
    static func line(_ data: JSONValue, width: Int = 30) -> (bar: String, text: String) {
        let done = data["done"]?.intValue ?? 0
        let total = max(data["total"]?.intValue ?? 0, done)
        let percent = total == 0 ? (data["state"]?.stringValue == "completed" ? 100 : 0) : Double(done) * 100 / Double(total)
        let filled = min(width, Int(percent / 100 * Double(width)))
        var text = String(format: "%5.1f%%  %d/%d rows", percent, done, total)
        if let rate = data["rows_per_second"]?.intValue, rate > 0 { text += "  \(rate) rows/s" }
        if let eta = data["eta_seconds"]?.intValue { text += "  ETA \(eta)s" }
        return ("[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]", text)
    }

    /// Shows the job's current figures.
    mutating func show(_ data: JSONValue) {
        let (bar, text) = Self.line(data)
        if terminal {
            FileHandle.standardOutput.write(Data(("\r" + bar + " " + text + "\u{1B}[K").utf8))
        } else if text != last {
            Self.say("Progress: \(text)")
        }
        last = text
    }

    /// Writes a line to stdout at once (unbuffered, so a log following a pipe sees it when it happens).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        if terminal { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}

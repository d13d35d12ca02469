import CofferCore
import Foundation
import NIOCore
import NIOExtras
import NIOPosix

/// Sends plain-text mail through an SMTP relay (RFC 5321: EHLO, MAIL FROM, RCPT TO, DATA with
/// dot-stuffing, QUIT), for alert emails. No authentication and no STARTTLS: the relay is expected on
/// loopback or a trusted network (`alerts.smtp_host`). Header values never carry a line break.
struct SMTPMailer: Sendable {
    let host: String
    let port: Int
    let from: String
    /// The whole exchange must finish within this.
    var timeout: Duration = .seconds(30)

    /// A failed exchange: what the relay answered, or that it could not be reached.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends one message to `to`.
    func send(to recipients: [String], subject: String, text: String) async throws {
        let message = Self.message(from: from, to: recipients, subject: subject, text: text, date: Date())
        try await Deadline.run(within: timeout, orThrow: { Failure(description: "the SMTP relay did not finish within \(timeout)") }) {
            try await exchange(recipients: recipients, message: message)
        }
    }

    func exchange(recipients: [String], message: String) async throws {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(description: "the SMTP relay \(host):\(port) could not be reached")
        }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func reply() async throws -> Int {
                while let line = try await lines.next() {
                    let text = String(buffer: line)
                    guard text.utf8.count >= 3, let code = Int(text.prefix(3)) else {
                        throw Failure(description: "the SMTP relay sent a malformed reply")
                    }
                    // `250-…` continues a multi-line reply; `250 …` (or `250`) ends it.
                    if text.utf8.count == 3 || text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: 3)] == UInt8(ascii: " ") { return code }
                }
                throw Failure(description: "the SMTP relay closed the connection")
            }
            func command(_ text: String, expect: ClosedRange<Int>) async throws {
                try await outbound.write(ByteBuffer(string: text + "\r\n"))
                let code = try await reply()
                guard expect.contains(code) else { throw Failure(description: "the SMTP relay answered \(code) to \(text.prefix(4))") }
            }
            guard (200..<300).contains(try await reply()) else { throw Failure(description: "the SMTP relay refused the connection") }
            try await command("EHLO coffer", expect: 250...250)
            try await command("MAIL FROM:<\(from)>", expect: 250...251)
            for recipient in recipients { try await command("RCPT TO:<\(recipient)>", expect: 250...251) }
            try await command("DATA", expect: 354...354)
            try await command(message + "\r\n.", expect: 250...250)
            try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// The message: headers, a blank line, the body with CRLF line ends and leading dots doubled.
    static func message(from: String, to: [String], subject: String, text: String, date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let oneLine = { (value: String) in String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init)) }
        let headers = [
            "From: \(oneLine(from))", "To: \(to.map(oneLine).joined(separator: ", "))", "Subject: \(oneLine(subject))",
            "Date: \(formatter.string(from: date))", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") ? "." + line : String(line)
        }
        return (headers + [""] + body).joined(separator: "\r\n")
    }
}

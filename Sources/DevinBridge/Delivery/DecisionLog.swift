import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Every decision on a signed request, one JSON line each, in `STATE_DIR/decisions.log`: what
/// `devin-bridge why <ticket>` reads to answer "what happened to this ticket". Cheap (one
/// append, no fsync: a lost last line costs an explanation, never a ticket) and bounded (at
/// 1 MiB it becomes `decisions.log.1`, replacing the one before: at most 2 MiB).
public enum DecisionLog {
    public static let fileName = "decisions.log"
    public static let maximumBytes = 1 << 20

    public struct Entry: Codable, Equatable, Sendable {
        public var time: Date
        public var delivery: String?
        public var source: String?
        public var ticket: String?
        public var event: String?
        public var decision: String
        public var reason: String?
        public var label: String?
        public var session: String?
        public var status: String?
    }

    /// Appends the decision the log line records; never fails the request. Written by hand (no
    /// encoder, no date formatter): it runs on every skipped request.
    public static func append(_ log: LogLine, directory: String, now: Date) {
        guard let decision = log["decision"] else { return }
        var line = "{\"time\":\"" + timestamp(now) + "\""
        let fields: [(String, String?)] = [
            ("delivery", log["delivery"]), ("source", log["source"]), ("ticket", log["ticket"]), ("event", log["event"]),
            ("decision", decision), ("reason", log["reason"] ?? log["error"]), ("label", log["label"]),
            ("session", log["session"]), ("status", log["status"]),
        ]
        for (key, value) in fields {
            guard let value else { continue }
            line += ",\"" + key + "\":" + quoted(value)
        }
        line += "}\n"
        let path = directory + "/" + fileName
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) > maximumBytes {
            // Whoever renames first wins; a writer still holding the old file appends to `.1`.
            rename(path, path + ".1")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return }
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    /// `2026-12-04T17:30:00Z`, from the C library.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars.prefix(2000) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || TextHygiene.isInvisible(scalar) {
                    let hex = String(min(scalar.value, 0xFFFD), radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The entries about `ticket`, oldest first.
    public static func entries(for ticket: String, directory: String) -> [Entry] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return [fileName + ".1", fileName].flatMap { name -> [Entry] in
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { return [] }
            return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(Entry.self, from: Data($0)) }
        }.filter { $0.ticket == ticket }
    }
}

import Foundation
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

    /// Appends the decision the log line records; never fails the request.
    public static func append(_ log: LogLine, directory: String, now: Date) {
        guard let decision = log["decision"] else { return }
        let entry = Entry(time: now, delivery: log["delivery"], source: log["source"], ticket: log["ticket"], event: log["event"],
                          decision: decision, reason: log["reason"] ?? log["error"], label: log["label"], session: log["session"],
                          status: log["status"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard var line = try? encoder.encode(entry) else { return }
        line.append(UInt8(ascii: "\n"))
        let path = directory + "/" + fileName
        var info = stat()
        if stat(path, &info) == 0, Int(info.st_size) > maximumBytes {
            // Whoever renames first wins; a writer still holding the old file appends to `.1`.
            rename(path, path + ".1")
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
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

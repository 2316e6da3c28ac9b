import Foundation

/// The local stand-in for the Devin API (Tests/Support/devin_standin.py) on a loopback port.
/// Started by a test and stopped by the same test (``stop()``, also on deinit).
final class StandIn {
    let process = Process()
    let port: Int
    let recordFile: URL
    let directory: URL

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(fault: String = "none", failTimes: Int = 0, retryAfter: String? = nil, delay: Double? = nil,
         apiKey: String = TestSecrets.apiKey, orgID: String = TestSecrets.orgID) throws {
        directory = try Paths.temporaryDirectory()
        recordFile = directory.appendingPathComponent("standin.jsonl")
        var arguments = [Paths.standIn, "--api-key", apiKey, "--org", orgID, "--record", recordFile.path,
                         "--fault", fault, "--fail-times", String(failTimes), "--lifetime", "300"]
        if let retryAfter { arguments += ["--retry-after", retryAfter] }
        if let delay { arguments += ["--delay", String(delay)] }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The first line is `PORT <n>`.
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw HarnessError("the API stand-in did not start: \(text)")
        }
        self.port = port
    }

    func stop() {
        stopProcess(process)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// Every record the stand-in wrote: requests received and sessions created.
    var records: [[String: Any]] {
        guard let text = try? String(contentsOf: recordFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    var requests: [[String: Any]] { records.filter { $0["kind"] as? String == "request" } }
    var sessions: [[String: Any]] { records.compactMap { $0["kind"] as? String == "session" ? $0["session"] as? [String: Any] : nil } }
}

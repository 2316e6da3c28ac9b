import Foundation
import Testing

/// Where things are: the package root, the built binary, the test support files.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `devin-bridge` built next to this test bundle (or `DEVIN_BRIDGE_BIN`).
    static var binary: String {
        if let override = ProcessInfo.processInfo.environment["DEVIN_BRIDGE_BIN"] { return override }
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = here.deletingLastPathComponent()
        // The runner is `<build>/debug/devin-bridgePackageTests.xctest` (a file on Linux).
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("devin-bridge").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/devin-bridge").path
    }

    static let standIn = packageRoot.appendingPathComponent("Tests/Support/devin_standin.py").path
    static let proxyTrap = packageRoot.appendingPathComponent("Tests/Support/proxy_trap.py").path

    /// A fresh directory for one test, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("devin-bridge-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Fake secrets with distinctive values, so a test can look for them in every output.
enum TestSecrets {
    static let apiKey = "test-api-key-DO-NOT-USE-7f3a"
    static let webhookSecret = "test webhook secret DO-NOT-USE 91c2"
    static let ticketToken = "test-ticket-token-DO-NOT-USE-55e0"
    static let orgID = "org-test123"
    /// A Standard Webhooks signing secret (GitLab's signing token), configured as WEBHOOK_SECRET_GITLAB.
    static let standardSecret = "whsec_" + Data("test-standard-key-DO-NOT-USE-6f1d".utf8).base64EncodedString()
    /// A static token (WEBHOOK_TOKEN): never the signing secret.
    static let webhookToken = "test-webhook-token-DO-NOT-USE-0b7e"
    static let all = [apiKey, webhookSecret, ticketToken, standardSecret, webhookToken]
}

/// What a process wrote and how it ended.
struct ProcessOutput {
    var stdout: [UInt8]
    var stderr: String
    var exitCode: Int32
    var elapsed: Double
}

/// Runs a program with exactly the given environment and stdin, collecting its output.
/// A process still running after `timeout` seconds is killed, so a hang fails the test instead
/// of stalling the run.
func runProcess(_ path: String, arguments: [String] = [], environment: [String: String],
                stdin: [UInt8], closeStdinEarly: Bool = false, keepStdinOpen: Bool = false,
                timeout: Double = 120) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = environment
    let input = Pipe(), output = Pipe(), errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    let started = Date()
    try process.run()

    // Feed stdin on its own thread so a large body cannot deadlock against a full stdout pipe.
    let writer = Thread {
        let handle = input.fileHandleForWriting
        if !closeStdinEarly { try? handle.write(contentsOf: Data(stdin)) }
        // keepStdinOpen: a sender that stops writing but never ends its body.
        if !keepStdinOpen { try? handle.close() }
    }
    writer.start()
    let pid = process.processIdentifier
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
    defer { watchdog.cancel() }
    let group = DispatchGroup()
    let collected = Collected()
    group.enter()
    DispatchQueue.global().async { collected.stderr = errors.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let out = output.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let err = collected.stderr
    process.waitUntilExit()
    if keepStdinOpen { try? input.fileHandleForWriting.close() }
    return ProcessOutput(stdout: Array(out), stderr: String(decoding: err, as: UTF8.self),
                         exitCode: process.terminationStatus, elapsed: Date().timeIntervalSince(started))
}

/// Hands stderr from the reading thread to the caller (the group orders the accesses).
private final class Collected: @unchecked Sendable {
    var stderr = Data()
}

/// A response as a CGI program wrote it.
struct CGIOutput {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    var stderr: String
    var raw: String
    var elapsed: Double

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// Parses `Status:` and headers up to the blank line (RFC 3875 §6.2).
    init(_ output: ProcessOutput) throws {
        raw = String(decoding: output.stdout, as: UTF8.self)
        stderr = output.stderr
        elapsed = output.elapsed
        let bytes = output.stdout
        var index = 0
        var lines: [String] = []
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) else { break }
            var line = String(decoding: bytes[index..<end], as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            index = end + 1
            if line.isEmpty { break }
            lines.append(line)
        }
        body = Array(bytes[min(index, bytes.count)...])
        headers = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard let statusLine = headers.first(where: { $0.0 == "Status" })?.1,
              let code = Int(statusLine.prefix(3))
        else { throw HarnessError("no Status header in CGI output: \(raw.prefix(300))") }
        status = code
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Stops a child: SIGTERM, then SIGKILL if it is still there after two seconds.
func stopProcess(_ process: Process) {
    guard process.isRunning else { return }
    process.terminate()
    let deadline = Date().addingTimeInterval(2)
    while process.isRunning && Date() < deadline { usleep(20_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

/// A temporary directory that removes itself when released.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() {
        let url = try! Paths.temporaryDirectory()
        chmod(url.path, 0o755)
        path = url.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

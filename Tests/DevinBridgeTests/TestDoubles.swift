import Foundation
import Testing
@testable import DevinBridge

// Fakes and fixtures shared by the unit tests. Nothing here touches the network, spawns a process
// or sleeps.

/// Obviously fake secrets, distinctive enough that finding one in an output is never a coincidence.
enum FakeSecret {
    static let apiKey = "test-api-key-DO-NOT-USE-1"
    static let webhookSecret = "test-webhook-secret-DO-NOT-USE-2"
    static let ticketToken = "test-ticket-token-DO-NOT-USE-3"
    /// A static webhook token (`WEBHOOK_TOKEN`): a value of its own, never a signing secret.
    static let webhookToken = "test-webhook-token-DO-NOT-USE-4"
    /// A Standard Webhooks secret (whsec_ and base64 of 32 bytes).
    static let standardSecret = "whsec_" + Data("test-standard-key-DO-NOT-USE-0005".utf8).base64EncodedString()
    /// A fragment all three share: no output may contain it, not even in part.
    static let marker = "DO-NOT-USE"
    static let all = [apiKey, webhookSecret, ticketToken]
}

/// An ``HTTPTransport`` that records what it is asked to send and answers with a canned result.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [(request: HTTPRequest, timeout: Double)] = []
    private let answer: Result<HTTPResponse, TransportError>

    init(_ answer: Result<HTTPResponse, TransportError>) {
        self.answer = answer
    }

    /// Answers `status` with a JSON body.
    convenience init(status: Int, json: String, headers: [String: String] = [:]) {
        self.init(.success(HTTPResponse(status: status, headers: headers, body: Array(json.utf8))))
    }

    /// Answers 200 with a created session.
    static func created(sessionID: String = "sess-0123456789abcdef",
                        url: String = "https://app.devin.ai/sessions/0123456789abcdef") -> RecordingTransport {
        RecordingTransport(status: 200, json: """
            {"session_id":"\(sessionID)","url":"\(url)","status":"new","tags":[],"org_id":"org-test","created_at":1,"updated_at":1,"acus_consumed":0,"pull_requests":[]}
            """)
    }

    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        lock.lock()
        defer { lock.unlock() }
        sent.append((request, timeout))
        return answer
    }

    var requests: [HTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return sent.map(\.request)
    }

    var timeouts: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return sent.map(\.timeout)
    }
}

/// A clock fixed at one instant whose monotonic counter advances `step` nanoseconds per reading,
/// so a request handled with it always takes exactly `step` (one reading at the start, one at the end).
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var uptime: UInt64 = 5_000_000_000
    let step: UInt64

    init(stepMilliseconds: UInt64) { step = stepMilliseconds * 1_000_000 }

    var clock: BridgeClock {
        BridgeClock(
            now: { Date(timeIntervalSince1970: 1_767_225_600) },
            uptimeNanoseconds: { [self] in
                lock.lock()
                defer { lock.unlock() }
                let value = uptime
                uptime += step
                return value
            })
    }
}

/// A body source for ``BodyReader`` and ``Handler``: hands out `bytes` at most `pieceSizes` at a
/// time (cycling), then 0 (end of input), and counts what it gave.
final class ByteSource: @unchecked Sendable {
    private let bytes: [UInt8]
    private let pieceSizes: [Int]
    private var calls = 0
    private(set) var consumed = 0
    /// When set, a read after this many bytes returns -1 (a read error) instead of data.
    var failAfter: Int?

    init(_ bytes: [UInt8], pieceSizes: [Int] = [Int.max]) {
        self.bytes = bytes
        self.pieceSizes = pieceSizes
    }

    convenience init(_ text: String, pieceSizes: [Int] = [Int.max]) {
        self.init(Array(text.utf8), pieceSizes: pieceSizes)
    }

    var remaining: Int { bytes.count - consumed }

    func read(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        if let failAfter, consumed >= failAfter { return -1 }
        let piece = pieceSizes[calls % pieceSizes.count]
        calls += 1
        let count = min(buffer.count, piece, remaining)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[consumed..<consumed + count]))
        }
        consumed += count
        return count
    }
}

/// A fresh directory under the temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("devin-bridge-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
}

/// Writes `contents` to a uniquely named file, passes its path to `body` and removes it afterwards.
func withConfigFile<T>(_ contents: String, _ body: (String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let file = directory.appendingPathComponent("bridge.conf")
        try Data(contents.utf8).write(to: file)
        // As installed: it holds secrets, so not readable by others (check warns otherwise).
        chmod(file.path, 0o640)
        return try body(file.path)
    }
}

/// Loads the configuration from `environment` alone, with an empty configuration file, so that
/// nothing from the machine running the tests (such as /etc/devin-bridge/bridge.conf) leaks in.
func loadFromEnvironment(_ environment: [String: String]) throws -> ConfigurationReport {
    try withConfigFile("") { path in
        var environment = environment
        environment["DEVIN_BRIDGE_CONFIG"] = path
        return Configuration.load(environment: environment)
    }
}

/// The three required settings, with the fake secrets.
let requiredEnvironment: [String: String] = [
    "DEVIN_API_KEY": FakeSecret.apiKey,
    "DEVIN_ORG_ID": "org-test123",
    "WEBHOOK_SECRET": FakeSecret.webhookSecret,
    "STATE_DIR": makeStateDirectory(),
]

/// A valid configuration, built directly (no file, no environment).
func makeConfiguration(
    ticketToken: String? = FakeSecret.ticketToken,
    triggerLabels: [TriggerLabel] = [TriggerLabel("devin-autofix", playbookID: "playbook-autofix1"),
                                     TriggerLabel("devin-feature")],
    docsURL: String? = nil,
    urlTemplate: String? = nil,
    apiBase: String = "https://api.devin.example",
    timeout: Double = 8,
    maxBodyBytes: Int = Configuration.defaultMaxBodyBytes,
    dryRun: Bool = false,
    stateDirectory: String = makeStateDirectory(),
    maxSessionsPerHour: Int = 0
) -> Configuration {
    Configuration(
        apiKey: Secret(FakeSecret.apiKey), orgID: "org-test123", webhookSecret: Secret(FakeSecret.webhookSecret),
        ticketAPIToken: ticketToken.map(Secret.init), triggerLabels: triggerLabels,
        ticketAPIDocsURL: docsURL, ticketURLTemplate: urlTemplate, apiBase: apiBase,
        timeoutSeconds: timeout, maxBodyBytes: maxBodyBytes, dryRun: dryRun,
        stateDirectory: stateDirectory, maxSessionsPerHour: maxSessionsPerHour)
}

/// A fresh, empty state directory: real files on disk, under one folder per test process that is
/// removed when the process exits.
func makeStateDirectory() -> String {
    let path = stateRoot + "/" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let stateRoot: String = {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("devin-bridge-unit-\(getpid())").path
    try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: stateRoot) }
    return root
}()

func makeReport(_ configuration: Configuration) -> ConfigurationReport {
    ConfigurationReport(file: nil, settings: [:], origins: [:], problems: [], warnings: [],
                        configuration: configuration)
}

/// `sha256=<hex>` for `body` under `secret`.
func signature(_ body: String, secret: String = FakeSecret.webhookSecret) -> String {
    "sha256=" + Hex.encode(HMACSHA256.authenticate(Array(body.utf8), key: Array(secret.utf8)))
}

/// A body decoded as a JSON object (the test fails if it is not one).
func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(bytes))
    guard let object = value as? [String: Any] else {
        throw TestFailure("not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
    }
    return object
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// The ``BridgeError`` that `body` throws; nil (and an issue, unless `allowSuccess`) when it throws
/// nothing, an issue when it throws anything else.
func bridgeError<T>(allowSuccess: Bool = false, _ body: () throws -> T) -> BridgeError? {
    do {
        let value = try body()
        if !allowSuccess { Issue.record("expected an error, got \(value)") }
        return nil
    } catch let error as BridgeError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

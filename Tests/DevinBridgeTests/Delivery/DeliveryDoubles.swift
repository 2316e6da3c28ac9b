import Foundation
import Testing
@testable import DevinBridge

// Fakes and fixtures for the state directory, the deliverer and the admin commands that use them.
// Everything runs against real temporary state directories (see makeStateDirectory()); nothing
// touches the network or spawns a process.

/// 2026-01-01T00:00:00Z, a Thursday: the instant the settable clocks start at.
let testEpoch = Date(timeIntervalSince1970: 1_767_225_600)

/// A wall clock the test moves by hand; its monotonic counter advances 1 ms per reading.
final class SettableClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private var uptime: UInt64 = 1_000_000_000

    init(_ start: Date = testEpoch) { current = start }

    var now: Date {
        get { lock.lock(); defer { lock.unlock() }; return current }
        set { lock.lock(); defer { lock.unlock() }; current = newValue }
    }

    func advance(_ seconds: TimeInterval) {
        lock.lock()
        defer { lock.unlock() }
        current = current.addingTimeInterval(seconds)
    }

    var clock: BridgeClock {
        BridgeClock(
            now: { [self] in now },
            uptimeNanoseconds: { [self] in
                lock.lock()
                defer { lock.unlock() }
                uptime += 1_000_000
                return uptime
            })
    }
}

/// An ``HTTPTransport`` that answers session creations (POST) and session lists (GET) from two
/// separate queues, and records every request. When a queue is empty, a creation succeeds with
/// the next `sess-000N` and a list is empty.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    typealias Answer = Result<HTTPResponse, TransportError>

    private let lock = NSLock()
    private var creates: [Answer]
    private var lists: [Answer]
    private var sent: [HTTPRequest] = []
    private var sessionsMade = 0
    private let createDelay: TimeInterval
    /// Runs during each POST, before it answers (after recording it): what happens while a
    /// request is in flight.
    private let duringCreate: (@Sendable () -> Void)?

    init(creates: [Answer] = [], lists: [Answer] = [], createDelay: TimeInterval = 0,
         duringCreate: (@Sendable () -> Void)? = nil) {
        self.creates = creates
        self.lists = lists
        self.createDelay = createDelay
        self.duringCreate = duringCreate
    }

    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        lock.lock()
        sent.append(request)
        sentTimeouts.append(timeout)
        let answer: Answer
        if request.method == "GET" {
            answer = lists.isEmpty ? Self.list([]) : lists.removeFirst()
        } else if !creates.isEmpty {
            answer = creates.removeFirst()
        } else {
            sessionsMade += 1
            answer = Self.created("sess-\(String(format: "%04d", sessionsMade))")
        }
        lock.unlock()
        if request.method != "GET" {
            if createDelay > 0 { usleep(UInt32(createDelay * 1_000_000)) }
            duringCreate?()
        }
        return answer
    }

    var requests: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return sent }
    private var sentTimeouts: [Double] = []
    var timeouts: [Double] { lock.lock(); defer { lock.unlock() }; return sentTimeouts }
    var posts: [HTTPRequest] { requests.filter { $0.method == "POST" } }
    var gets: [HTTPRequest] { requests.filter { $0.method == "GET" } }

    static func url(_ sessionID: String) -> String { "https://app.devin.example/sessions/\(sessionID)" }

    /// 200 with a created session.
    static func created(_ sessionID: String) -> Answer {
        .success(HTTPResponse(status: 200, body: Array(#"{"session_id":"\#(sessionID)","url":"\#(url(sessionID))","status":"new"}"#.utf8)))
    }

    /// An answer with `status` and an empty JSON body.
    static func status(_ status: Int, headers: [String: String] = [:]) -> Answer {
        .success(HTTPResponse(status: status, headers: headers, body: Array("{}".utf8)))
    }

    /// 200 with a page of sessions, each `(session_id, tags)`.
    static func list(_ sessions: [(String, [String])]) -> Answer {
        let items = sessions.map { id, tags in
            #"{"session_id":"\#(id)","url":"\#(url(id))","tags":[\#(tags.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        }
        return .success(HTTPResponse(status: 200, body: Array(#"{"items":[\#(items.joined(separator: ","))]}"#.utf8)))
    }
}

/// A state directory, a deliverer over it, a scripted transport and a settable clock.
struct DeliveryBench {
    let configuration: Configuration
    let store: FileStateStore
    let transport: ScriptedTransport
    let clock: SettableClock

    init(maxSessionsPerHour: Int = 0, transport: ScriptedTransport = ScriptedTransport(),
         clock: SettableClock = SettableClock()) throws {
        configuration = makeConfiguration(maxSessionsPerHour: maxSessionsPerHour)
        store = try FileStateStore(directory: configuration.stateDirectory)
        self.transport = transport
        self.clock = clock
    }

    var deliverer: Deliverer {
        Deliverer(store: store, client: DevinClient(configuration: configuration, transport: transport),
                  configuration: configuration, clock: clock.clock)
    }

    /// A live delivery of `key`, as the handler makes it (the request without its secrets).
    func deliver(_ key: TicketKey, delivery: String? = "delivery-1") throws -> Deliverer.Outcome {
        try deliverer.deliver(key, request: storedRequest(for: key), delivery: delivery)
    }

    func retry(_ key: TicketKey, ignoringBackoff: Bool = false) throws -> Deliverer.Outcome {
        try deliverer.retry(key, ignoringBackoff: ignoringBackoff)
    }

    /// The record on disk (the test fails when there is none).
    func record(_ key: TicketKey) throws -> DeliveryRecord {
        try #require(try store.read(key.digest))
    }

    /// The names of the files in `tickets/`.
    var ticketFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.ticketsDirectory)) ?? []).sorted()
    }
}

/// A (source, ticket, label) key for ticket `PROJ-<number>`.
func ticketKey(_ number: Int = 1, label: String = "devin-autofix") -> TicketKey {
    TicketKey(source: "generic", ticket: "PROJ-\(number)", label: label)
}

/// The session request the handler hands to the deliverer: tagged with the key, no secrets.
func storedRequest(for key: TicketKey) -> SessionCreateRequest {
    SessionCreateRequest(prompt: "Fix \(key.ticket).", title: "\(key.ticket): crash on save",
                         tags: ["ticket:\(key.ticket)", key.label, "devin-bridge", key.legacyTag],
                         playbook_id: nil, session_secrets: nil)
}

/// A record for `key` in `state`, every date at `at` unless given.
/// When the process that left an in-flight record died: long enough before `testEpoch` that its
/// request's time (DEVIN_TIMEOUT_SECONDS and the margin) is over.
let diedInFlight = testEpoch.addingTimeInterval(-60)

func sampleRecord(_ key: TicketKey, state: DeliveryRecord.State, at date: Date = testEpoch,
                  sessionID: String? = nil, attempts: Int = 0, reason: String? = nil, errorCode: String? = nil,
                  nextAttemptAt: Date? = nil, firstSeenAt: Date? = nil, uncertain: Bool = false) -> DeliveryRecord {
    DeliveryRecord(
        key: key.digest, source: key.source, ticket: key.ticket, label: key.label, state: state,
        sessionID: sessionID, url: sessionID.map(ScriptedTransport.url), request: storedRequest(for: key),
        attempts: attempts, uncertain: uncertain, reason: reason, errorCode: errorCode, nextAttemptAt: nextAttemptAt,
        firstSeenAt: firstSeenAt ?? date, updatedAt: date, createdAt: state == .created ? date : nil,
        deliveries: [])
}

extension Deliverer.Outcome {
    /// The case's name, for comparisons in `#expect`.
    var kind: String {
        switch self {
        case .created: return "created"
        case .duplicate: return "duplicate"
        case .queued: return "queued"
        case .inProgress: return "inProgress"
        case .failed: return "failed"
        case .notDue: return "notDue"
        case .createdUnrecorded: return "createdUnrecorded"
        }
    }

    var record: DeliveryRecord? {
        switch self {
        case .created(let record), .duplicate(let record), .queued(let record), .notDue(let record),
             .failed(let record, _), .createdUnrecorded(let record, _):
            return record
        case .inProgress:
            return nil
        }
    }
}

/// The inode of the file at `path`, or nil.
func inode(_ path: String) -> UInt64? {
    var info = stat()
    return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
}

/// A signed webhook request for `ticket` (with the `devin-autofix` label) run through `handler`.
func deliverWebhook(_ handler: Handler, ticket: String = "PROJ-123",
                    delivery: String? = "72d3162e-cc78-11e3-81ab-4c9367dc0958") -> Outcome {
    let body = #"{"id":"\#(ticket)","title":"Crash on save","description":"It crashes.","labels":["bug","devin-autofix"]}"#
    var environment = [
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": String(body.utf8.count),
        "HTTP_X_HUB_SIGNATURE_256": signature(body),
    ]
    if let delivery { environment["HTTP_X_GITHUB_DELIVERY"] = delivery }
    let source = ByteSource(body)
    return handler.handle(CGIRequestHead(environment: environment), readBody: source.read)
}

extension Data {
    var text: String { String(decoding: self, as: UTF8.self) }
}

import FoundationEssentials
import Glibc

/// Delivers tickets to Devin at most once per (ticket, label), and never loses one.
///
/// Every decision about a key happens under that key's lock, so concurrent deliveries of the same
/// ticket are serialised. Before calling Devin the record is marked in flight; a later attempt
/// that finds such a marker (the process died, or the answer was lost) first looks the session up
/// by its tag and adopts it. Retryable failures are queued with a backoff for `devin-bridge retry`.
public struct Deliverer: Sendable {
    public let store: FileStateStore
    public let client: DevinClient
    public let configuration: Configuration
    public let clock: BridgeClock
    /// A webhook's time budget; nil for `devin-bridge retry`, which waits as long as calls take.
    public let deadline: RequestDeadline?

    /// The first retry waits this long, doubling per attempt up to ``maximumBackoff``.
    public static let initialBackoff: TimeInterval = 60
    public static let maximumBackoff: TimeInterval = 3600

    public init(store: FileStateStore, client: DevinClient, configuration: Configuration, clock: BridgeClock,
                deadline: RequestDeadline? = nil) {
        self.store = store
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.deadline = deadline
    }

    /// Slack on top of DEVIN_TIMEOUT_SECONDS for a request sent by a process that died mid-call:
    /// its connection's set-up and the Devin side finishing what it received.
    static let inFlightMargin: Double = 2

    /// Whether the create request of a process that died mid-call may still reach Devin. The
    /// Devin API has no idempotency: a look-up by tag before that time is over could miss a
    /// session about to be created, and a second request would make two. So an in-flight record
    /// is left alone for the call's timeout (which bounded that request) and a margin; after it,
    /// the look-up by tag decides.
    func requestMayStillArrive(_ record: DeliveryRecord, now: Date) -> Bool {
        // abs: a clock stepped back a little still counts the time; one far off does not hold it.
        abs(now.timeIntervalSince(record.updatedAt)) < configuration.timeoutSeconds + Self.inFlightMargin
    }

    /// How long a wait may take: `wanted`, cut to the request's budget.
    func budget(_ wanted: Double) -> Double { deadline?.budget(wanted) ?? wanted }

    /// The client for one call, its timeout cut to the budget; nil when too little time is left.
    func clientForCall() -> DevinClient? {
        let seconds = budget(client.timeout)
        guard deadline == nil || seconds >= min(RequestDeadline.minimumCallSeconds, client.timeout) else { return nil }
        return client.withTimeout(seconds)
    }

    public enum Outcome: Sendable {
        /// A session was created by this call.
        case created(DeliveryRecord)
        /// A session already existed (or was found on the Devin side); nothing was created.
        case duplicate(DeliveryRecord)
        /// Kept in the queue for `devin-bridge retry`.
        case queued(DeliveryRecord)
        /// Another process holds this ticket's lock (it is being delivered right now).
        case inProgress
        /// Devin refused for good; kept as failed with the reason.
        case failed(DeliveryRecord, BridgeError)
        /// `retry` skipped it: not due yet, or no longer queued.
        case notDue(DeliveryRecord)
        /// The session was created but its record could not be written (a full disk): the
        /// in-flight marker stays, so the next attempt finds the session by its tag.
        case createdUnrecorded(DeliveryRecord, BridgeError)
    }

    /// A live delivery from a webhook.
    public func deliver(_ key: TicketKey, request: SessionCreateRequest, delivery: String?) throws -> Outcome {
        guard let lock = try store.lock(key.digest, timeout: budget(configuration.timeoutSeconds + 2)) else { return .inProgress }
        defer { lock.release() }
        let now = clock.now()
        var record: DeliveryRecord
        if var existing = try store.read(key.digest) {
            existing.noteDelivery(delivery)
            switch existing.state {
            case .created:
                existing.updatedAt = now
                try store.write(existing)
                return .duplicate(existing)
            case .queued:
                existing.updatedAt = now
                try store.write(existing)
                return .queued(existing)
            case .inFlight:
                // Nobody holds the lock, so the process that set this died mid-call. Its request
                // may still be on its way: leave it until that request's time is surely over.
                if requestMayStillArrive(existing, now: now) {
                    try store.write(existing)
                    return .inProgress
                }
                existing.uncertain = true
            case .failed:
                // Usually an admin's redelivery after fixing the cause: try again, afresh.
                existing.attempts = 0
                existing.request = request
                existing.firstSeenAt = now
            }
            record = existing
        } else {
            record = DeliveryRecord(
                key: key.digest, source: key.source, ticket: key.ticket, label: key.label, state: .queued,
                sessionID: nil, url: nil, request: request, attempts: 0, uncertain: false, reason: nil,
                errorCode: nil, nextAttemptAt: nil, firstSeenAt: now, updatedAt: now, createdAt: nil,
                deliveries: [])
            record.noteDelivery(delivery)
        }
        return try attempt(&record, key: key)
    }

    /// One pass of `devin-bridge retry` over a key: attempts it when it is queued and due (or
    /// `ignoringBackoff`), or in flight with nobody holding its lock.
    public func retry(_ key: TicketKey, ignoringBackoff: Bool) throws -> Outcome {
        guard let lock = try store.lock(key.digest, timeout: 0) else { return .inProgress }
        defer { lock.release() }
        guard var record = try store.read(key.digest) else { return .inProgress }
        switch record.state {
        case .queued:
            if !ignoringBackoff, let next = record.nextAttemptAt, next > clock.now() { return .notDue(record) }
        case .inFlight:
            if requestMayStillArrive(record, now: clock.now()) { return .inProgress }
            record.uncertain = true
        case .created, .failed:
            return .notDue(record)
        }
        return try attempt(&record, key: key)
    }

    private func attempt(_ record: inout DeliveryRecord, key: TicketKey) throws -> Outcome {
        var now = clock.now()
        if record.uncertain {
            guard let client = clientForCall() else {
                return try outOfTime(&record, now: now, step: "looking for a session an earlier attempt may have created")
            }
            let found: CreatedSession?
            do {
                found = try client.findSession(tag: try record.adoptionTag())
            } catch let error as BridgeError {
                // A failed look-up counts as an attempt, so its retries back off too.
                record.attempts += 1
                if error.isRetryable {
                    return try queue(&record, error, now: now, reason: "could not check for a session an earlier attempt may have created: " + error.message)
                }
                return try fail(&record, error, now: now)
            }
            if let found {
                record.markCreated(found, at: now, reason: "adopted the session an earlier attempt created")
                try store.write(record)
                acknowledge(record)
                return .duplicate(record)
            }
        }

        guard deadline.map({ $0.budget(.infinity) >= RequestDeadline.minimumCallSeconds }) ?? true else {
            return try outOfTime(&record, now: now, step: "creating the session")
        }
        let freeAt: Date?
        do {
            freeAt = try store.reserveSession(at: now, cap: configuration.maxSessionsPerHour, wait: budget(FileStateStore.ledgerWait))
        } catch is FileStateStore.LedgerBusy {
            return try outOfTime(&record, now: clock.now(), step: "the sessions-per-hour ledger was free")
        }
        if let freeAt {
            record.markQueued(reason: "MAX_SESSIONS_PER_HOUR (\(configuration.maxSessionsPerHour)) reached: waits for a free slot",
                              code: "session_cap", next: freeAt, at: now)
            try store.write(record)
            return .queued(record)
        }
        let reservedAt = now

        // The in-flight marker reaches the disk before the request leaves.
        record.state = .inFlight
        record.attempts += 1
        record.updatedAt = now
        try store.write(record)

        var request = record.request
        request.session_secrets = configuration.ticketAPIToken.map {
            [.init(key: "TICKET_API_TOKEN", value: $0.value, sensitive: true)]
        }
        guard let client = clientForCall() else {
            try? store.releaseSession(reservedAt: reservedAt, now: clock.now())
            record.attempts -= 1
            return try outOfTime(&record, now: clock.now(), step: "creating the session")
        }
        let session: CreatedSession
        do {
            session = try client.createSession(request)
        } catch let error as BridgeError {
            now = clock.now()
            if !error.mayHaveCreatedSession {
                try? store.releaseSession(reservedAt: reservedAt, now: now)
            }
            record.uncertain = record.uncertain || error.mayHaveCreatedSession
            if error.isRetryable { return try queue(&record, error, now: now, reason: error.message) }
            return try fail(&record, error, now: now)
        }
        // The session exists from here on: a failure to record it keeps the slot and the in-flight
        // marker, so the next attempt finds the session by its tag.
        now = clock.now()
        record.markCreated(session, at: now, reason: nil)
        do {
            try store.write(record)
        } catch let error as BridgeError {
            return .createdUnrecorded(record, error)
        }
        acknowledge(record)
        return .created(record)
    }

    /// Owes the ticket its "Devin is on it" comment (posted after the answer; the sync pass
    /// writes it later if this fails).
    private func acknowledge(_ record: DeliveryRecord) {
        guard let update = SessionSync.acknowledgement(for: record) else { return }
        _ = try? Outbox(store: store, configuration: configuration, clock: clock).enqueue(update, for: record)
    }

    /// The request's time ran out before `step`: queued for the retry timer, due at once.
    private func outOfTime(_ record: inout DeliveryRecord, now: Date, step: String) throws -> Outcome {
        record.markQueued(reason: "the webhook's time (\(Int(RequestDeadline.totalSeconds)) s) ran out before \(step); the retry timer finishes it",
                          code: "deadline", next: now, at: now)
        try store.write(record)
        return .queued(record)
    }

    private func queue(_ record: inout DeliveryRecord, _ error: BridgeError, now: Date, reason: String) throws -> Outcome {
        record.markQueued(reason: reason, code: error.code,
                          next: now.addingTimeInterval(Self.delay(after: record.attempts, error: error, now: now)), at: now)
        try store.write(record)
        return .queued(record)
    }

    private func fail(_ record: inout DeliveryRecord, _ error: BridgeError, now: Date) throws -> Outcome {
        record.state = .failed
        record.reason = error.message
        record.errorCode = error.code
        record.nextAttemptAt = nil
        record.updatedAt = now
        try store.write(record)
        return .failed(record, error)
    }

    /// `Retry-After` when Devin sent one (seconds or an HTTP date, 1 s to 1 day), else
    /// exponential backoff: 1 min, 2 min, 4 min, ... up to an hour.
    static func delay(after attempts: Int, error: BridgeError, now: Date) -> TimeInterval {
        if case .upstreamRateLimited(let retryAfter?) = error { return delay(after: attempts, retryAfter: retryAfter, now: now) }
        return delay(after: attempts, retryAfter: nil, now: now)
    }

    /// The same for any upstream (the ticketing systems too).
    static func delay(after attempts: Int, retryAfter: String?, now: Date) -> TimeInterval {
        if let retryAfter, let seconds = parseRetryAfter(retryAfter, now: now) {
            return min(max(seconds, 1), 86_400)
        }
        let exponent = Double(max(0, min(attempts - 1, 16)))
        return min(initialBackoff * pow(2, exponent), maximumBackoff)
    }

    static func parseRetryAfter(_ value: String, now: Date) -> TimeInterval? {
        if let seconds = Double(value.trimmingASCIIWhitespace()), seconds.isFinite, seconds >= 0 { return seconds }
        return DateText.parseHTTPDate(value).map { $0.timeIntervalSince(now) }
    }
}

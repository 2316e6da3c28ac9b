import FoundationEssentials

/// One comment the bridge owes a ticket, in `STATE_DIR/outbox/<id>.json`: written before it is
/// posted, so a comment is never lost to a crash, an outage or a slow ticketing system.
public struct OutboxEntry: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable { case pending, posted, failed }

    /// SHA-256 of the ticket's key and the update's event: one comment per update, ever.
    public var id: String
    /// The ticket record's key.
    public var key: String
    public var source: String
    public var ticket: String
    public var event: String
    /// In the comment's text, so the bridge can tell its own comment among the ticket's.
    public var marker: String
    public var text: String
    public var state: State
    public var attempts: Int
    /// A post may have reached the system without its answer reaching the bridge: look for the
    /// marker among the ticket's comments before posting again.
    public var uncertain: Bool
    public var reason: String?
    public var errorCode: String?
    public var nextAttemptAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var postedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, key, source, ticket, event, marker, text, state, attempts, uncertain, reason
        case errorCode = "error_code"
        case nextAttemptAt = "next_attempt_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case postedAt = "posted_at"
    }

    /// The order comments go out in: the acknowledgement first, then as they were owed.
    public static func postingOrder(_ lhs: OutboxEntry, _ rhs: OutboxEntry) -> Bool {
        let (left, right) = (lhs.event == "started" ? 0 : 1, rhs.event == "started" ? 0 : 1)
        return left != right ? left < right : lhs.createdAt < rhs.createdAt
    }

    static func id(key: String, event: String) -> String {
        Hex.encode(SHA256Digest.hash(Array("comment\u{0}\(key)\u{0}\(event)".utf8)))
    }

    /// Checks an entry read back from the state directory before it is posted anywhere.
    func validate(fileID: String) throws {
        func invalid(_ what: String) -> BridgeError { .stateUnavailable("the outbox entry \(fileID).json \(what) (move it away)") }
        guard id == fileID, FileStateStore.isKey(id), FileStateStore.isKey(key), id == Self.id(key: key, event: event) else {
            throw invalid("does not carry its own name")
        }
        guard let source = TicketSource(rawValue: source), TicketIDShape(source).matches(ticket) else { throw invalid("names no valid ticket") }
        guard marker.utf8.count == 16, Hex.decode(marker) != nil, text.contains(marker), text.count <= 10_000 else {
            throw invalid("holds no valid comment")
        }
        guard attempts >= 0, attempts < 1_000_000 else { throw invalid("holds impossible counts") }
    }
}

/// The comments owed to tickets: enqueued when something happens, posted right after the webhook's
/// answer by a detached worker, and by every `devin-bridge retry` until posted or refused.
public struct Outbox: Sendable {
    public let store: FileStateStore
    public let configuration: Configuration
    public let clock: BridgeClock

    public init(store: FileStateStore, configuration: Configuration, clock: BridgeClock) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    /// Writes the comment for `update` on `record`'s ticket, unless it is already there, the
    /// level of `TICKET_COMMENTS` leaves it out, or the ticket's system has no API configured.
    /// Returns the new entry.
    @discardableResult
    public func enqueue(_ update: TicketUpdate, for record: DeliveryRecord) throws -> OutboxEntry? {
        guard update.isPosted(at: configuration.ticketComments), let source = TicketSource(rawValue: record.source),
              let api = ticketAPI(source: source, ticket: record.ticket, configuration: configuration) else { return nil }
        let id = OutboxEntry.id(key: record.key, event: update.eventID)
        guard let lock = try store.lock("outbox-" + id, timeout: 5) else { return nil }
        defer { lock.release() }
        if try store.readOutbox(id) != nil { return nil }
        let marker = String(id.prefix(16))
        let now = clock.now()
        let entry = OutboxEntry(id: id, key: record.key, source: record.source, ticket: record.ticket, event: update.eventID,
                                marker: marker, text: update.text(markup: api.markup, marker: marker), state: .pending,
                                attempts: 0, uncertain: false, reason: nil, errorCode: nil, nextAttemptAt: now,
                                createdAt: now, updatedAt: now, postedAt: nil)
        try store.writeOutbox(entry)
        return entry
    }

    /// The entries of one ticket (by its record's key), oldest first.
    public func entries(forKey key: String) -> [OutboxEntry] {
        store.allOutbox().filter { $0.key == key }.sorted(by: OutboxEntry.postingOrder)
    }
}

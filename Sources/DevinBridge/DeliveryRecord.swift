import Foundation

/// What the bridge remembers about one (ticket, trigger label): whether a session exists, is
/// queued, in flight or failed, and the session request to send again. Stored as readable JSON,
/// one file per key, in `STATE_DIR/tickets/`. Secrets are never stored: the session secrets are
/// added from the configuration at send time.
public struct DeliveryRecord: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// A request to Devin was (about to be) sent and its answer not yet recorded.
        case inFlight = "in_flight"
        case created
        case queued
        case failed
    }

    public var key: String
    public var source: String
    public var ticket: String
    public var label: String
    public var state: State
    public var sessionID: String?
    public var url: String?
    /// The session request, without `session_secrets`.
    public var request: SessionCreateRequest
    public var attempts: Int
    /// An earlier attempt may have created a session (timeout, dropped connection, 5xx, crash):
    /// look it up by tag before creating one.
    public var uncertain: Bool
    public var reason: String?
    public var errorCode: String?
    public var nextAttemptAt: Date?
    public var firstSeenAt: Date
    public var updatedAt: Date
    public var createdAt: Date?
    /// The senders' delivery ids seen for this key, newest last (at most 10).
    public var deliveries: [String]

    enum CodingKeys: String, CodingKey {
        case key, source, ticket, label, state, request, attempts, uncertain, reason, deliveries, url
        case sessionID = "session_id"
        case errorCode = "error_code"
        case nextAttemptAt = "next_attempt_at"
        case firstSeenAt = "first_seen_at"
        case updatedAt = "updated_at"
        case createdAt = "created_at"
    }

    /// The record of a ticket whose session exists: no retry, no doubt left.
    mutating func markCreated(_ session: CreatedSession, at now: Date, reason: String?) {
        state = .created
        sessionID = session.sessionID
        url = session.url
        createdAt = createdAt ?? now
        updatedAt = now
        uncertain = false
        self.reason = reason
        errorCode = nil
        nextAttemptAt = nil
    }

    public mutating func noteDelivery(_ id: String?) {
        guard let id, !id.isEmpty, deliveries.last != id else { return }
        deliveries.append(id)
        if deliveries.count > 10 { deliveries.removeFirst(deliveries.count - 10) }
    }
}

/// Identifies one (source, ticket, trigger label): the unit that gets at most one session.
public struct TicketKey: Equatable, Hashable, Sendable {
    public let source: String
    public let ticket: String
    public let label: String

    public init(source: String, ticket: String, label: String) {
        self.source = source
        self.ticket = ticket
        self.label = label.lowercased()
    }

    /// A file-name-safe digest of the ticket and the label. The dialect is left out: it is chosen
    /// from parts of the request the signature does not cover (URL, event headers), so a signed
    /// body replayed under another dialect must not count as another ticket. Ids are already
    /// namespaced by their form (`owner/repo#42`, `PROJ-123`, `#1234`, `bug 5678`).
    public var digest: String {
        Hex.encode(SHA256Digest.hash(Array("\(ticket)\u{0}\(label)".utf8)))
    }

    /// The tag that finds this key's session on the Devin side (`GET .../sessions?tags=`).
    public var tag: String { "devin-bridge:\(digest.prefix(20))" }
}

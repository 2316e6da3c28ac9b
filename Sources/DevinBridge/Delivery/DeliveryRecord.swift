import FoundationEssentials

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
    /// What the last sync pass saw of the session (nil before the first).
    public var session: SessionSnapshot? = nil

    enum CodingKeys: String, CodingKey {
        case key, source, ticket, label, state, request, attempts, uncertain, reason, deliveries, url, session
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

    /// The record of a ticket kept for `devin-bridge retry`, due at `next`.
    mutating func markQueued(reason: String, code: String, next: Date, at now: Date) {
        state = .queued
        self.reason = reason
        errorCode = code
        nextAttemptAt = next
        updatedAt = now
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

    /// The tag that found a key's session before tags were keyed: the digest's first 20 hex
    /// digits. Anyone who knows the ticket could compute it, so it is only recognised in records
    /// written then, never put on a new session.
    public var legacyTag: String { "devin-bridge:\(digest.prefix(20))" }

    /// The tag that finds this key's session on the Devin side (`GET .../sessions?tags=`): an
    /// HMAC of the ticket and label under the installation's own key (``FileStateStore/installationKey()``),
    /// so nobody else in the Devin organization can create a session the bridge would adopt.
    public func tag(installationKey: [UInt8]) -> String {
        let mac = HMACSHA256.authenticate(Array("adoption-tag\u{0}\(ticket)\u{0}\(label)".utf8), key: installationKey)
        return "devin-bridge:" + Hex.encode(mac).prefix(32)
    }
}

extension DeliveryRecord {
    /// The adoption tag this record's session carries (or will carry).
    public func adoptionTag() throws -> String {
        let tags = request.tags.filter { $0.hasPrefix("devin-bridge:") }
        guard tags.count == 1 else { throw BridgeError.stateUnavailable("the record of \(ticket) holds no adoption tag") }
        return tags[0]
    }

    /// Checks a record read back from `STATE_DIR` before it is used as a path or a request: the
    /// state directory is the bridge's own, but a record is data, and data is checked.
    /// Throws a sentence naming what is wrong.
    func validate(fileKey: String, installationKey: [UInt8]) throws {
        func invalid(_ what: String) -> BridgeError { .stateUnavailable("the record \(fileKey).json \(what) (move it away to start the ticket afresh)") }
        guard key == fileKey, key.utf8.count == 64, key.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw invalid("does not carry its own file name as key")
        }
        guard let source = TicketSource(rawValue: source) else { throw invalid("names an unknown source") }
        guard TicketIDShape(source).matches(ticket) else { throw invalid("holds a ticket id not shaped like a \(source.rawValue) id") }
        guard !label.isEmpty, label.count <= Ticket.maxLabelCharacters,
              !label.unicodeScalars.contains(where: { TextHygiene.isInvisible($0) || $0 == "," || $0 == "=" }) else {
            throw invalid("holds an invalid label")
        }
        let ticketKey = TicketKey(source: source.rawValue, ticket: ticket, label: label)
        guard ticketKey.digest == key else { throw invalid("does not match its ticket and label") }
        guard request.session_secrets == nil else { throw invalid("holds session secrets (the bridge never stores them)") }
        guard let tag = try? adoptionTag(),
              tag == ticketKey.tag(installationKey: installationKey) || tag == ticketKey.legacyTag else {
            throw invalid("does not carry this installation's adoption tag")
        }
        guard request.prompt.count <= 40_000, request.title.count <= 300, request.tags.count <= 10,
              request.tags.allSatisfy({ $0.count <= 300 }) else { throw invalid("holds an oversized request") }
        if let playbook = request.playbook_id {
            guard !playbook.isEmpty, playbook.count <= 100,
                  playbook.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
            else { throw invalid("holds an invalid playbook id") }
        }
        if let sessionID {
            guard !sessionID.isEmpty, sessionID.count <= 200,
                  sessionID.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") })
            else { throw invalid("holds an invalid session id") }
        }
        if let url, !PromptBuilder.isPlainURL(url) { throw invalid("holds an invalid session URL") }
        if let repos = request.repos, repos.count > 10 || !repos.allSatisfy(SessionScope.isRepository) { throw invalid("holds an invalid repository") }
        if let limit = request.max_acu_limit, limit <= 0 { throw invalid("holds an invalid ACU limit") }
        guard attempts >= 0, attempts < 1_000_000, deliveries.count <= 10 else { throw invalid("holds impossible counts") }
        if let session {
            guard SessionSnapshot.word(session.status) == session.status, session.pullRequests.count <= 100,
                  session.pullRequests.allSatisfy({ PromptBuilder.isPlainURL($0.url) }) else { throw invalid("holds an invalid session state") }
        }
    }
}

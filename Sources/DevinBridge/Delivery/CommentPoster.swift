import FoundationEssentials

/// Posts the outbox's comments: each at most once, none lost.
///
/// Under the entry's lock: an entry whose earlier post may have reached the system (a timeout, a
/// dropped connection, a 5xx, a crash) is first looked for among the ticket's comments by its
/// marker; then the entry is marked uncertain on disk before the post leaves, and the answer
/// decides: posted, pending again with a backoff (`Retry-After` when the system sends one), or
/// failed with the reason after a refusal (401, 403, 404, 4xx).
public struct CommentPoster: Sendable {
    public let store: FileStateStore
    public let configuration: Configuration
    public let transport: any HTTPTransport
    public let clock: BridgeClock

    public init(store: FileStateStore, configuration: Configuration, transport: any HTTPTransport, clock: BridgeClock) {
        self.store = store
        self.configuration = configuration
        self.transport = transport
        self.clock = clock
    }

    public enum Outcome: Equatable, Sendable {
        case posted
        /// Found among the ticket's comments: an earlier post had reached the system.
        case found
        case pending(String)
        case failed(String)
        case notDue
        case busy
    }

    /// Every entry of `key` (or of every ticket) that is pending and due (all of them when
    /// `ignoringBackoff`), oldest first; returns what happened to each.
    public func postDue(key: String? = nil, ignoringBackoff: Bool = false) -> [(OutboxEntry, Outcome)] {
        let now = clock.now()
        let due = store.allOutbox()
            .filter { $0.state == .pending && (key == nil || $0.key == key) }
            .filter { ignoringBackoff || ($0.nextAttemptAt ?? now) <= now }
            .sorted(by: OutboxEntry.postingOrder)
        return due.map { entry in
            let outcome = (try? post(entry.id, ignoringBackoff: ignoringBackoff)) ?? .pending("the outbox could not be read or written")
            return ((try? store.readOutbox(entry.id)) ?? nil ?? entry, outcome)
        }
    }

    public func post(_ id: String, ignoringBackoff: Bool = false) throws -> Outcome {
        guard let lock = try store.lock("outbox-" + id, timeout: 0) else { return .busy }
        defer { lock.release() }
        guard var entry = try store.readOutbox(id), entry.state == .pending else { return .notDue }
        let now = clock.now()
        if !ignoringBackoff, let next = entry.nextAttemptAt, next > now { return .notDue }
        guard let source = TicketSource(rawValue: entry.source),
              let api = ticketAPI(source: source, ticket: entry.ticket, configuration: configuration) else {
            return try fail(&entry, "no API is configured for \(entry.source) any more (TICKET_API_BASE, TICKET_API_TOKEN)", code: "not_configured")
        }
        if entry.uncertain {
            switch look(for: entry.marker, with: api) {
            case .found:
                entry.state = .posted
                entry.uncertain = false
                entry.postedAt = clock.now()
                entry.updatedAt = clock.now()
                entry.reason = "found among the ticket's comments: an earlier post had reached it"
                try store.writeOutbox(entry)
                return .found
            case .absent:
                break
            case .unknown(let failure):
                entry.attempts += 1
                return try retry(&entry, failure)
            }
        }
        // The marker reaches the disk before the post leaves.
        entry.uncertain = true
        entry.attempts += 1
        entry.updatedAt = now
        try store.writeOutbox(entry)
        let result = transport.send(api.postComment(entry.text), timeout: configuration.timeoutSeconds)
        switch Self.classify(result, system: source) {
        case .success:
            entry.state = .posted
            entry.uncertain = false
            entry.reason = nil
            entry.errorCode = nil
            entry.nextAttemptAt = nil
            entry.postedAt = clock.now()
            entry.updatedAt = clock.now()
            try store.writeOutbox(entry)
            return .posted
        case .retry(let failure):
            return try retry(&entry, failure)
        case .refused(let reason, let code):
            entry.uncertain = false
            return try fail(&entry, reason, code: code)
        }
    }

    struct Failure {
        var reason: String
        var code: String
        var retryAfter: String?
        /// The request may have reached the system.
        var mayHaveStored: Bool
    }

    enum Classified {
        case success
        case retry(Failure)
        case refused(String, code: String)
    }

    static func classify(_ result: Result<HTTPResponse, TransportError>, system: TicketSource) -> Classified {
        let name = system.rawValue
        switch result {
        case .failure(.timeout):
            return .retry(Failure(reason: "\(name) did not answer in time", code: "ticket_api_timeout", mayHaveStored: true))
        case .failure(.dropped(let why)):
            return .retry(Failure(reason: "the connection to \(name) broke: \(why)", code: "ticket_api_unreachable", mayHaveStored: true))
        case .failure(.connection(let why)):
            return .retry(Failure(reason: "\(name) could not be reached: \(why)", code: "ticket_api_unreachable", mayHaveStored: false))
        case .success(let response):
            switch response.status {
            case 200...299:
                return .success
            case 429:
                return .retry(Failure(reason: "\(name) is rate limiting (HTTP 429)", code: "ticket_api_rate_limited",
                                      retryAfter: response.headers["retry-after"].flatMap(DevinClient.sanitizedRetryAfter), mayHaveStored: false))
            case 500...599:
                return .retry(Failure(reason: "\(name) failed with HTTP \(response.status)", code: "ticket_api_error", mayHaveStored: true))
            case 401:
                return .refused("\(name) rejected the ticketing token (HTTP 401): check TICKET_API_TOKEN", code: "ticket_api_rejected")
            case 403:
                return .refused("\(name) refused the comment (HTTP 403): the token's user may not comment on this ticket", code: "ticket_api_rejected")
            case 404:
                return .refused("\(name) does not know the ticket (HTTP 404): it was deleted or moved, or TICKET_API_BASE is wrong", code: "ticket_api_not_found")
            default:
                return .refused("\(name) refused the comment (HTTP \(response.status))", code: "ticket_api_rejected")
            }
        }
    }

    enum Look { case found, absent, unknown(Failure) }

    /// Whether a comment holding `marker` is on the ticket (at most 20 pages are read).
    func look(for marker: String, with api: any TicketAPI) -> Look {
        for page in 1...20 {
            let result = transport.send(api.listComments(page: page), timeout: configuration.timeoutSeconds)
            guard case .success(let response) = result, response.status == 200 else {
                switch Self.classify(result, system: .generic) {
                case .retry(var failure):
                    failure.reason = "could not check the ticket's comments for an earlier post: " + failure.reason
                    failure.mayHaveStored = true
                    return .unknown(failure)
                default:
                    let status = (try? result.get().status).map(String.init) ?? "?"
                    return .unknown(Failure(reason: "could not read the ticket's comments (HTTP \(status))", code: "ticket_api_rejected", mayHaveStored: true))
                }
            }
            guard let (texts, more) = api.comments(in: response, page: page) else {
                return .unknown(Failure(reason: "the ticket's comments are not the documented JSON", code: "ticket_api_bad_response", mayHaveStored: true))
            }
            if texts.contains(where: { $0.contains(marker) }) { return .found }
            if !more { return .absent }
        }
        return .absent
    }

    private func retry(_ entry: inout OutboxEntry, _ failure: Failure) throws -> Outcome {
        let now = clock.now()
        entry.uncertain = entry.uncertain && failure.mayHaveStored
        entry.reason = failure.reason
        entry.errorCode = failure.code
        entry.nextAttemptAt = now.addingTimeInterval(Deliverer.delay(after: entry.attempts, retryAfter: failure.retryAfter, now: now))
        entry.updatedAt = now
        try store.writeOutbox(entry)
        return .pending(failure.reason)
    }

    private func fail(_ entry: inout OutboxEntry, _ reason: String, code: String) throws -> Outcome {
        entry.state = .failed
        entry.reason = reason
        entry.errorCode = code
        entry.nextAttemptAt = nil
        entry.updatedAt = clock.now()
        try store.writeOutbox(entry)
        return .failed(reason)
    }
}

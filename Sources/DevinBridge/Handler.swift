import FoundationEssentials

/// What the bridge answers and logs for one request.
public struct Outcome: Sendable {
    public var response: CGIResponse
    public var log: LogLine
    /// The ticket (its record's key) whose comments are to be posted right after the answer.
    public var postCommentsFor: String? = nil
}

/// Turns one CGI request into a CGI response: the whole decision path of the bridge.
///
/// Steps: read the body (always, all of it), check the method and the configuration, verify the
/// signature before parsing anything, decode the ticket, apply the trigger rules, build the
/// session request, and call the Devin API (or, with `DRY_RUN`, show what would be sent).
public struct Handler: Sendable {
    public var report: ConfigurationReport
    public var transport: any HTTPTransport
    public var clock: BridgeClock
    public var version: String
    /// When the request started (monotonic nanoseconds): its ``RequestDeadline`` counts from here.
    public var startedAt: UInt64?

    /// Headers that carry the sender's delivery id, in the order they are looked for.
    public static let deliveryHeaders = [
        "x-github-delivery", "x-gitea-delivery", "x-forgejo-delivery", "x-gogs-delivery", "idempotency-key",
        "x-gitlab-event-uuid", "webhook-id", "x-atlassian-webhook-identifier", "x-request-id",
    ]

    public init(report: ConfigurationReport, transport: any HTTPTransport, clock: BridgeClock = .system,
                version: String = BridgeVersion.current, startedAt: UInt64? = nil) {
        self.report = report
        self.transport = transport
        self.clock = clock
        self.version = version
        self.startedAt = startedAt
    }

    public func handle(_ head: CGIRequestHead, readBody: ReadFunction) -> Outcome {
        let started = startedAt ?? clock.uptimeNanoseconds()
        var log = LogLine()
        log.set("method", String(head.method.prefix(16)))
        log.set("delivery", Self.deliveryID(head.headers))

        // Drain first: a host loses the response of a script that leaves the body unread.
        let body = BodyReader.read(contentLength: head.contentLength, limit: report.maxBodyBytes, from: readBody)

        var response: CGIResponse
        var source: TicketSource?
        var followUp: String?
        do {
            response = try decide(head, body: body.get(), log: &log, source: &source, started: started, followUp: &followUp)
        } catch let error as BridgeError {
            var headers: [(String, String)] = []
            if case .methodNotAllowed = error { headers.append(("Allow", "POST")) }
            response = .error(error, headers: headers)
            if log["decision"] == nil { log.set("decision", "rejected") }
            log.set("error", error.code)
            log.set("reason", error.logDetail)
        } catch {
            response = .error(.invalidJSON("\(type(of: error))"))
            log.set("decision", "rejected")
        }
        // Bugzilla Harmony counts any answer but exactly 200 as a failure and holds back the
        // bug's later messages: a queued ticket is still accepted, with the status in the body.
        if let source, source.wantsExactly200, (200..<300).contains(response.status.code) {
            response.status = .ok
        }
        if !report.warnings.isEmpty { log.set("warning", report.warnings.joined(separator: "; ")) }
        // Every decision on a signed request is kept, so "why didn't it fire?" has an answer.
        if log["auth"] != nil, let configuration = report.configuration, !configuration.dryRun {
            var entry = log
            entry.set("status", String(response.status.code))
            DecisionLog.append(entry, directory: configuration.stateDirectory, now: clock.now())
        }
        log.set("status", String(response.status.code))
        let elapsed = (clock.uptimeNanoseconds() &- started) / 1_000_000
        log.set("elapsed_ms", String(elapsed))
        return Outcome(response: response, log: log, postCommentsFor: followUp)
    }

    private func decide(_ head: CGIRequestHead, body: @autoclosure () throws -> [UInt8], log: inout LogLine,
                        source answeredSource: inout TicketSource?, started: UInt64, followUp: inout String?) throws -> CGIResponse {
        switch head.method {
        case "POST": break
        case "GET", "HEAD":
            _ = try? body()
            log.set("decision", "health")
            return health()
        default:
            throw BridgeError.methodNotAllowed(head.method)
        }
        let body = try body()
        guard let configuration = report.configuration else { throw BridgeError.notConfigured(report.problems) }

        // The sender the URL or headers name picks the secret; the body's own bytes pick how it is read.
        let claimed = try TicketSource.claimed(head: head, configured: configuration.ticketSource)
        let authenticator = WebhookAuthenticator(configuration: configuration)
        let proof = try authenticator.verify(body: body, document: RequestBody.formDocument(body), head: head,
                                             claimed: claimed, now: clock.now())
        log.set("auth", proof.scheme.rawValue + (proof.sender.map { "/" + $0.rawValue } ?? ""))
        try RequestBody.checkMediaType(head.headers["content-type"])
        let object = try JSONValue.parseObject(RequestBody.json(body))
        let source = proof.sender ?? claimed ?? TicketSource.fromShape(object)
        log.set("source", source.rawValue)
        answeredSource = source
        try authenticator.checkBinding(proof, source: source)
        let webhook = try source.decode(object, headers: head.headers)
        let ticket = webhook.ticket
        if case .ignored = webhook.event, ticket.id == "-" {} else { log.set("ticket", ticket.id) }

        let trigger: TriggerLabel
        switch webhook.event {
        case .commented(let comment):
            return try handleComment(comment, ticket: ticket, source: source, configuration: configuration, head: head,
                                     log: &log, started: started, followUp: &followUp)
        case .assigned(let logins):
            log.set("event", "assigned")
            guard let assignee = configuration.comments.assignee(in: logins) else {
                let reason = configuration.comments.assignees.isEmpty
                    ? "an assignment; no ASSIGNEES are set, so assignments start nothing"
                    : "assigned to \(logins.prefix(5).joined(separator: ", ")), not to one of ASSIGNEES (\(configuration.comments.assignees.joined(separator: ", ")))"
                log.set("decision", "skipped")
                log.set("reason", reason)
                return .skipped(ticket: ticket.id, reason: reason)
            }
            log.set("assignee", assignee)
            trigger = TriggerLabel(CommentRules.assignmentLabel, playbookID: configuration.comments.assignmentPlaybook)
        default:
            switch TriggerRules(configuration.triggerLabels).decide(webhook) {
            case .success(let label):
                trigger = label
            case .failure(let skip):
                log.set("decision", "skipped")
                log.set("reason", skip.text)
                return .skipped(ticket: ticket.id == "-" ? nil : ticket.id, reason: skip.text)
            }
        }
        return try startSession(ticket: ticket, source: source, trigger: trigger, request: nil, configuration: configuration,
                                head: head, log: &log, started: started, followUp: &followUp)
    }

    /// The session for a ticket that triggered (a label, a mention, an assignment): at most one per
    /// (ticket, trigger), recorded before Devin is called, queued when Devin cannot take it now.
    func startSession(ticket: Ticket, source: TicketSource, trigger: TriggerLabel, request comment: (author: String, text: String)?,
                      configuration: Configuration, head: CGIRequestHead, log: inout LogLine, started: UInt64,
                      followUp: inout String?) throws -> CGIResponse {
        var ticket = ticket
        log.set("label", trigger.name)
        if source == .bugzilla, ticket.description == nil {
            // No Bugzilla webhook carries the description: comment 0, read through the API.
            ticket.description = bugzillaDescription(ticket, configuration: configuration, started: started, log: &log)
        }

        let key = TicketKey(source: ticket.source, ticket: ticket.id, label: trigger.name)
        let client = DevinClient(configuration: configuration, transport: transport)
        let repository = configuration.scope.repository(for: ticket)
        log.set("repos", repository.repository ?? "none (\(repository.reason ?? "unknown"))")
        if let limit = configuration.scope.acuLimit(for: trigger) { log.set("max_acu", String(limit)) }
        if configuration.dryRun {
            // The real tag needs the installation key; a dry run reads it when it can.
            let tag = FileStateStore.existingInstallationKey(in: configuration.stateDirectory)
                .map(key.tag(installationKey:)) ?? "devin-bridge:(keyed per installation)"
            let request = Self.sessionRequest(for: ticket, trigger: trigger, adoptionTag: tag, configuration: configuration, request: comment)
            log.set("decision", "dry_run")
            let http = client.createSessionRequest(request)
            return .json(.ok, DryRun(
                ticket: ticket.id, label: trigger.name,
                request: .init(method: http.method, url: http.url,
                               headers: http.headers.merging(["Authorization": "Bearer ********"]) { $1 },
                               body: request.masked)))
        }
        let store = try FileStateStore(directory: configuration.stateDirectory)
        let deliverer = Deliverer(store: store, client: client, configuration: configuration, clock: clock,
                                  deadline: RequestDeadline(clock: clock, startedAt: started))
        var stored = Self.sessionRequest(for: ticket, trigger: trigger, adoptionTag: key.tag(installationKey: try store.installationKey()),
                                         configuration: configuration, request: comment)
        stored.session_secrets = nil
        let outcome = try deliverer.deliver(key, request: stored, delivery: Self.deliveryID(head.headers))
        // The acknowledgement (and anything else owed) is posted right after the answer: for a new
        // or adopted session, or a redelivery while its acknowledgement is still pending.
        if configuration.ticketComments != .off, configuration.ticketAPI(for: source) != nil {
            switch outcome {
            case .created, .createdUnrecorded:
                followUp = key.digest
            case .duplicate:
                let pending = (try? store.readOutbox(OutboxEntry.id(key: key.digest, event: "started")))??.state == .pending
                if pending { followUp = key.digest }
            default:
                break
            }
        }
        switch outcome {
        case .created(let record):
            log.set("decision", "created")
            log.set("session", record.sessionID)
            return .json(.ok, SessionAnswer(status: "created", ticket: ticket.id, label: trigger.name,
                                            session_id: record.sessionID ?? "", url: record.url ?? ""))
        case .createdUnrecorded(let record, let error):
            // The truth: the session exists; only its record is missing, and the in-flight marker
            // makes the next delivery find it by its tag instead of starting another.
            log.set("decision", "created")
            log.set("session", record.sessionID)
            log.set("error", error.code)
            log.set("reason", "the session was created but not recorded: " + error.logDetail)
            return .json(.ok, SessionAnswer(status: "created", ticket: ticket.id, label: trigger.name,
                                            session_id: record.sessionID ?? "", url: record.url ?? "",
                                            warning: "The session was created, but the bridge could not record it (its administrator finds why in the web server's error log); a redelivery finds this session instead of starting another."))
        case .duplicate(let record), .notDue(let record):
            log.set("decision", "duplicate")
            log.set("session", record.sessionID)
            return .json(.ok, SessionAnswer(status: "duplicate", ticket: ticket.id, label: trigger.name,
                                            session_id: record.sessionID ?? "", url: record.url ?? ""))
        case .queued(let record):
            log.set("decision", "queued")
            log.set("reason", record.reason)
            let next = record.nextAttemptAt.map { DateText.iso8601($0) }
            log.set("next_attempt", next)
            return .json(.accepted, Queued(ticket: ticket.id, label: trigger.name,
                                           reason: record.reason ?? "queued", next_attempt_at: next))
        case .inProgress:
            log.set("decision", "in_progress")
            return .json(.accepted, InProgress(ticket: ticket.id, label: trigger.name))
        case .failed(_, let error):
            log.set("decision", "failed")
            throw error
        }
    }

    /// Bugzilla's comment 0 (the description), when its API is configured; nil (and a note in the
    /// log) when it cannot be had within a few seconds: the session starts without it.
    func bugzillaDescription(_ ticket: Ticket, configuration: Configuration, started: UInt64, log: inout LogLine) -> String? {
        guard let api = ticketAPI(source: .bugzilla, ticket: ticket.id, configuration: configuration) as? BugzillaAPI else { return nil }
        let seconds = RequestDeadline(clock: clock, startedAt: started).budget(min(4, configuration.timeoutSeconds))
        guard seconds >= 1 else { return nil }
        guard case .success(let response) = transport.send(api.listComments(page: 1), timeout: seconds), response.status == 200,
              let text = api.description(in: response) else {
            log.set("description", "unavailable")
            return nil
        }
        log.set("description", "fetched")
        return text
    }

    /// The session request for a ticket that triggered.
    public static func sessionRequest(for ticket: Ticket, trigger: TriggerLabel, adoptionTag: String,
                                      configuration: Configuration, request: (author: String, text: String)? = nil) -> SessionCreateRequest {
        var builder = PromptBuilder(configuration: configuration)
        let repository = configuration.scope.repository(for: ticket).repository
        builder.repository = repository
        var session = SessionCreateRequest(
            prompt: builder.prompt(for: ticket, request: request),
            title: builder.title(for: ticket),
            tags: ["ticket:\(ticket.id)", trigger.name, "devin-bridge", adoptionTag],
            playbook_id: trigger.playbookID,
            session_secrets: configuration.ticketAPIToken.map {
                [.init(key: "TICKET_API_TOKEN", value: $0.value, sensitive: true)]
            })
        session.repos = repository.map { [$0] }
        session.max_acu_limit = configuration.scope.acuLimit(for: trigger)
        return session
    }

    private func health() -> CGIResponse {
        if report.configuration != nil {
            return .json(.ok, Health(service: "devin-bridge", version: version, configured: true, error: nil, message: nil))
        }
        let error = BridgeError.notConfigured(report.problems)
        return .json(.internalServerError, Health(service: "devin-bridge", version: version, configured: false,
                                                  error: error.code, message: error.message))
    }

    /// The sender's delivery id, if it sent one, reduced to characters safe for a log line.
    static func deliveryID(_ headers: HTTPHeaders) -> String? {
        for name in deliveryHeaders {
            guard let value = headers[name] else { continue }
            let safe = value.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0)) }
            if !safe.isEmpty { return String(String.UnicodeScalarView(safe.prefix(128))) }
        }
        return nil
    }
}

struct SessionAnswer: Encodable {
    let status: String
    let ticket: String
    let label: String
    let session_id: String
    let url: String
    var warning: String? = nil
}

struct Queued: Encodable {
    var status = "queued"
    let ticket: String
    let label: String
    let reason: String
    let next_attempt_at: String?
}

struct InProgress: Encodable {
    var status = "in_progress"
    let ticket: String
    let label: String
    var message = "Another delivery of this ticket is being handled right now; it gets at most one session."
}

struct DryRun: Encodable {
    struct Request: Encodable {
        let method: String
        let url: String
        let headers: [String: String]
        let body: SessionCreateRequest
    }
    var status = "dry_run"
    let ticket: String
    let label: String
    let request: Request
}

struct Health: Encodable {
    let service: String
    let version: String
    let configured: Bool
    let error: String?
    let message: String?
}

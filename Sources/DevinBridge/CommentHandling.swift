import FoundationEssentials

/// What the bridge does with a comment on a ticket: forward it to the ticket's session, start a
/// session for an @mention, or skip it with the reason.
extension Handler {
    func handleComment(_ comment: TicketComment, ticket: Ticket, source: TicketSource, configuration: Configuration,
                       head: CGIRequestHead, log: inout LogLine, started: UInt64, followUp: inout String?) throws -> CGIResponse {
        log.set("event", "comment " + String(comment.id.prefix(40)))
        let rules = configuration.comments
        func skip(_ reason: String) -> CGIResponse {
            log.set("decision", "skipped")
            log.set("reason", reason)
            return .skipped(ticket: ticket.id, reason: reason)
        }
        let deadline = RequestDeadline(clock: clock, startedAt: started)
        let store = try FileStateStore(directory: configuration.stateDirectory)

        // The text, read through the API where the webhook leaves it out (Bugzilla's private comments).
        var body = comment.body
        if body == nil, source == .bugzilla,
           let api = ticketAPI(source: .bugzilla, ticket: ticket.id, configuration: configuration) as? BugzillaAPI,
           case .success(let response) = transport.send(api.listComments(page: 1), timeout: deadline.budget(min(4, configuration.timeoutSeconds))),
           response.status == 200 {
            body = api.text(ofComment: comment.id, in: response)
        }
        guard let text = body, !text.trimmedWhitespace.isEmpty else {
            return skip("the comment's text is not in the webhook and could not be read through the API")
        }
        var checked = comment
        checked.body = text
        let mention = rules.mention(in: text)
        // The cheap answer first: a comment that cannot go anywhere costs no API call.
        if !mention.mentioned && rules.forward == .mentions {
            if let refusal = rules.refusal(of: checked, source: source, botLogin: nil), refusal == "the bridge's own comment" { return skip(refusal) }
            guard MessageForwarder.sessionRecord(ticket: ticket.id, source: source, configuration: configuration, store: store) != nil else {
                return skip("no session for this ticket, and the comment does not mention @\(rules.handle)")
            }
            return skip("the comment does not mention @\(rules.handle) (FORWARD_COMMENTS=mentions; set all to forward every comment)")
        }
        let botLogin = TokenUser.login(source: source, configuration: configuration, store: store, transport: transport,
                                       clock: clock, timeout: deadline.budget(min(3, configuration.timeoutSeconds)))
        if let refusal = rules.refusal(of: checked, source: source, botLogin: botLogin) { return skip(refusal) }

        let client = DevinClient(configuration: configuration, transport: transport)
        let forwarder = MessageForwarder(store: store, client: client, configuration: configuration, clock: clock)
        guard let record = MessageForwarder.sessionRecord(ticket: ticket.id, source: source, configuration: configuration, store: store) else {
            guard mention.mentioned else {
                return skip("no session for this ticket, and the comment does not mention @\(rules.handle)")
            }
            // An @mention on a ticket without a session starts one, with the comment as the request.
            let playbook = mention.command.flatMap { rules.commands[$0] } ?? rules.mentionPlaybook
            if let command = mention.command { log.set("command", command) }
            let response = try startSession(ticket: ticket, source: source, trigger: TriggerLabel(CommentRules.mentionLabel, playbookID: playbook),
                                            request: (comment.author, text), configuration: configuration, head: head, log: &log,
                                            started: started, followUp: &followUp)
            // The comment is the session's request: a redelivery of it is not a reply.
            if case .new(var message) = try forwarder.enqueue(checked, body: text, ticket: ticket.id, source: source) {
                message.state = .sent
                message.reason = "started the session"
                message.sentAt = clock.now()
                try store.writeMessage(message)
            }
            return response
        }
        guard mention.mentioned || rules.forward == .all else {
            return skip("the comment does not mention @\(rules.handle) (FORWARD_COMMENTS=mentions; set all to forward every comment)")
        }
        log.set("label", record.label)
        switch try forwarder.enqueue(checked, body: text, ticket: ticket.id, source: source) {
        case .seen(let message):
            log.set("decision", "duplicate")
            log.set("reason", "this comment was seen before (\(message.state.rawValue))")
            return .json(.ok, Forwarded(status: "duplicate", ticket: ticket.id, comment: comment.id, session_id: message.sessionID,
                                        reason: "this comment was seen before: \(message.state.rawValue)"))
        case .new:
            break
        }
        let results = try forwarder.forward(ticket: ticket.id, source: source, deadline: deadline)
        let mine = results.first { $0.0.commentID == comment.id }
        switch mine?.1 {
        case .sent(let session)?:
            log.set("decision", "forwarded")
            log.set("session", session)
            return .json(.ok, Forwarded(status: "forwarded", ticket: ticket.id, comment: comment.id, session_id: session, reason: nil))
        case .failed(let reason)?:
            log.set("decision", "failed")
            log.set("reason", reason)
            followUp = record.key
            return .json(.ok, Forwarded(status: "failed", ticket: ticket.id, comment: comment.id, session_id: record.sessionID, reason: reason))
        case .pending(let reason)?:
            log.set("decision", "queued")
            log.set("reason", reason)
            return .json(.accepted, Forwarded(status: "queued", ticket: ticket.id, comment: comment.id, session_id: record.sessionID, reason: reason))
        case nil:
            // An earlier comment of this ticket still waits: this one waits behind it, in order.
            log.set("decision", "queued")
            log.set("reason", "waits behind an earlier comment of this ticket")
            return .json(.accepted, Forwarded(status: "queued", ticket: ticket.id, comment: comment.id, session_id: record.sessionID,
                                              reason: "waits behind an earlier comment of this ticket"))
        }
    }
}

struct Forwarded: Encodable {
    let status: String
    let ticket: String
    let comment: String
    let session_id: String?
    let reason: String?
}

import FoundationEssentials

/// `devin-bridge retry` and `devin-bridge status`: the state directory from the admin's side.
extension AdminCommands {
    /// Delivers what is queued and due (everything queued with `ignoringBackoff`), resolves
    /// in-flight markers left by dead processes, and prunes records older than `RETENTION_DAYS`.
    public static func retry(_ configuration: Configuration, transport: any HTTPTransport, clock: BridgeClock,
                             ignoringBackoff: Bool) -> CommandResult {
        let store: FileStateStore
        switch openStore(configuration, command: "retry") {
        case .success(let opened): store = opened
        case .failure(let failure): return failure.result
        }
        let deliverer = Deliverer(store: store, client: DevinClient(configuration: configuration, transport: transport),
                                  configuration: configuration, clock: clock)
        var out = ""
        var err = ""
        var counts: [String: Int] = [:]
        let pending = store.allRecords()
            .filter { $0.state == .queued || $0.state == .inFlight }
            .sorted { $0.firstSeenAt < $1.firstSeenAt }
        for record in pending {
            let key = TicketKey(source: record.source, ticket: record.ticket, label: record.label)
            let name = "\(record.ticket) [\(record.label)]"
            do {
                switch try deliverer.retry(key, ignoringBackoff: ignoringBackoff) {
                case .created(let done):
                    out += "created  \(name): \(done.sessionID ?? "") \(done.url ?? "")\n"
                    counts["created", default: 0] += 1
                case .createdUnrecorded(let done, let error):
                    out += "created  \(name): \(done.sessionID ?? "") \(done.url ?? "") (not recorded: the next run adopts it by its tag)\n"
                    err += "devin-bridge retry: \(name): \(error.logDetail)\n"
                    counts["created", default: 0] += 1
                    counts["errors", default: 0] += 1
                case .duplicate(let done):
                    out += "adopted  \(name): \(done.sessionID ?? "") (an earlier attempt had created it)\n"
                    counts["adopted", default: 0] += 1
                case .queued(let later):
                    out += "queued   \(name): \(later.reason ?? "") (next attempt \(format(later.nextAttemptAt)))\n"
                    counts["still queued", default: 0] += 1
                case .failed(let failed, _):
                    out += "failed   \(name): \(failed.reason ?? "")\n"
                    counts["failed", default: 0] += 1
                case .inProgress:
                    counts["busy", default: 0] += 1
                case .notDue:
                    counts["not due", default: 0] += 1
                }
            } catch let error as BridgeError {
                err += "devin-bridge retry: \(name): \(error.logDetail)\n"
                counts["errors", default: 0] += 1
            } catch {
                err += "devin-bridge retry: \(name): \(error)\n"
            }
        }
        // The sessions' state, and the comments it calls for.
        let sync = SessionSync(store: store, client: DevinClient(configuration: configuration, transport: transport),
                               configuration: configuration, clock: clock).run()
        if sync.polled > 0 { counts["session(s) checked", default: 0] += sync.polled }
        if sync.comments > 0 { counts["comment(s) owed", default: 0] += sync.comments }
        for error in sync.errors {
            err += "devin-bridge retry: \(error)\n"
            counts["errors", default: 0] += 1
        }
        // Replies that wait for Devin (an outage, a session still being created), in order per ticket.
        let forwarder = MessageForwarder(store: store, client: DevinClient(configuration: configuration, transport: transport),
                                         configuration: configuration, clock: clock)
        var waiting: [String: TicketSource] = [:]
        for message in store.allMessages() where message.state == .pending {
            waiting[message.ticket] = TicketSource(rawValue: message.source)
        }
        for (ticket, source) in waiting.sorted(by: { $0.key < $1.key }) {
            for (message, outcome) in (try? forwarder.forward(ticket: ticket, source: source, ignoringBackoff: ignoringBackoff)) ?? [] {
                let name = "\(ticket) [comment \(message.commentID)]"
                switch outcome {
                case .sent(let session):
                    out += "reply    \(name): forwarded to \(session)\n"
                    counts["reply(ies) forwarded", default: 0] += 1
                case .pending(let reason):
                    out += "reply    \(name): waiting: \(reason)\n"
                    counts["reply(ies) waiting", default: 0] += 1
                case .failed(let reason):
                    out += "reply    \(name): failed: \(reason)\n"
                    counts["reply(ies) failed", default: 0] += 1
                }
            }
        }
        let poster = CommentPoster(store: store, configuration: configuration, transport: transport, clock: clock)
        for (entry, outcome) in poster.postDue(ignoringBackoff: ignoringBackoff) {
            let name = "\(entry.ticket) [\(entry.event)]"
            switch outcome {
            case .posted:
                out += "comment  \(name): posted\n"
                counts["comment(s) posted", default: 0] += 1
            case .found:
                out += "comment  \(name): found on the ticket (an earlier post had reached it)\n"
                counts["comment(s) posted", default: 0] += 1
            case .pending(let reason):
                out += "comment  \(name): pending: \(reason) (next attempt \(format(entry.nextAttemptAt)))\n"
                counts["comment(s) pending", default: 0] += 1
            case .failed(let reason):
                out += "comment  \(name): failed: \(reason)\n"
                counts["comment(s) failed", default: 0] += 1
            case .busy, .notDue:
                break
            }
        }
        let pruned = prune(store, configuration: configuration, now: clock.now())
        if pruned > 0 { counts["pruned", default: 0] += pruned }
        let summary = counts.isEmpty ? "nothing to do" : counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        out += "retry: \(summary)\n"
        return CommandResult(stdout: out, stderr: err, exitCode: counts["errors"] == nil ? 0 : 1)
    }

    /// Removes created and failed records older than `RETENTION_DAYS`; a ticket still queued after
    /// that long is marked failed (and removed a retention period later).
    static func prune(_ store: FileStateStore, configuration: Configuration, now: Date) -> Int {
        let cutoff = now.addingTimeInterval(-Double(configuration.retentionDays) * 86_400)
        var removed = 0
        for record in store.allRecords() where record.updatedAt < cutoff || record.firstSeenAt < cutoff {
            guard let lock = try? store.lock(record.key, timeout: 0) else { continue }
            defer { lock.release() }
            guard var current = try? store.read(record.key) else { continue }
            switch current.state {
            case .created, .failed:
                if current.updatedAt < cutoff {
                    store.remove(current.key)
                    for entry in store.allOutbox() where entry.key == current.key { store.removeOutbox(entry.id) }
                    removed += 1
                }
            case .queued, .inFlight:
                if current.firstSeenAt < cutoff {
                    current.state = .failed
                    current.reason = "gave up: still undelivered after \(configuration.retentionDays) days (RETENTION_DAYS)"
                    current.errorCode = "expired"
                    current.updatedAt = now
                    try? store.write(current)
                }
            }
        }
        // Forwarded comment ids are remembered for the retention period, then forgotten.
        for message in store.allMessages() where message.updatedAt < cutoff && message.state != .pending {
            store.removeMessage(message.id)
        }
        // Comments nobody could post within the retention period are given up.
        for entry in store.allOutbox() where entry.state == .pending && entry.createdAt < cutoff {
            guard let lock = try? store.lock("outbox-" + entry.id, timeout: 0) else { continue }
            defer { lock.release() }
            guard var current = (try? store.readOutbox(entry.id)) ?? nil, current.state == .pending else { continue }
            current.state = .failed
            current.reason = "gave up: still not posted after \(configuration.retentionDays) days (RETENTION_DAYS)"
            current.errorCode = "expired"
            current.updatedAt = now
            try? store.writeOutbox(current)
        }
        return removed
    }

    /// Recent sessions, queued and failed tickets with their reasons and next attempt.
    public static func status(_ configuration: Configuration, clock: BridgeClock, json: Bool, limit: Int = 20) -> CommandResult {
        let store: FileStateStore
        switch openStore(configuration, command: "status") {
        case .success(let opened): store = opened
        case .failure(let failure): return failure.result
        }
        let now = clock.now()
        let records = store.allRecords()
        let created = records.filter { $0.state == .created }.sorted { ($0.createdAt ?? $0.updatedAt) > ($1.createdAt ?? $1.updatedAt) }
        let queued = records.filter { $0.state == .queued || $0.state == .inFlight }.sorted { $0.firstSeenAt < $1.firstSeenAt }
        let failed = records.filter { $0.state == .failed }.sorted { $0.updatedAt > $1.updatedAt }
        let lastHour = store.sessionsInLastHour(now: now)

        if json {
            struct Comment: Encodable {
                let event: String
                let state: String
                let reason: String?
                let next_attempt_at: Date?
                let posted_at: Date?
            }
            struct Ticket: Encodable {
                let record: DeliveryRecord
                let comments: [Comment]
                func encode(to encoder: Encoder) throws {
                    try record.encode(to: encoder)
                    enum Keys: String, CodingKey { case comments }
                    var container = encoder.container(keyedBy: Keys.self)
                    try container.encode(comments, forKey: .comments)
                }
            }
            struct Status: Encodable {
                let state_dir: String
                let sessions_last_hour: Int
                let max_sessions_per_hour: Int
                let ticket_comments: String
                let sessions: [Ticket]
                let queued: [Ticket]
                let failed: [Ticket]
            }
            let entries = store.allOutbox()
            func ticket(_ record: DeliveryRecord) -> Ticket {
                Ticket(record: record, comments: entries.filter { $0.key == record.key }.sorted(by: OutboxEntry.postingOrder).map {
                    Comment(event: $0.event, state: $0.state.rawValue, reason: $0.reason,
                            next_attempt_at: $0.state == .pending ? $0.nextAttemptAt : nil, posted_at: $0.postedAt)
                })
            }
            let encoder = FileStateStore.encoder
            let document = Status(state_dir: configuration.stateDirectory, sessions_last_hour: lastHour,
                                  max_sessions_per_hour: configuration.maxSessionsPerHour,
                                  ticket_comments: configuration.ticketComments.rawValue,
                                  sessions: created.prefix(limit).map(ticket), queued: queued.map(ticket), failed: failed.map(ticket))
            let data = (try? encoder.encode(document)) ?? Data()
            return CommandResult(stdout: String(decoding: data, as: UTF8.self) + "\n")
        }

        let cap = configuration.maxSessionsPerHour == 0 ? "no cap" : "cap \(configuration.maxSessionsPerHour)"
        var out = "state directory: \(configuration.stateDirectory)\n"
        out += "sessions in the last hour: \(lastHour) (\(cap), MAX_SESSIONS_PER_HOUR)\n\n"
        out += "recent sessions (\(min(created.count, limit)) of \(created.count)):\n"
        let entries = store.allOutbox()
        for record in created.prefix(limit) {
            out += "  \(format(record.createdAt))  \(record.ticket) [\(record.label)]  \(record.sessionID ?? "")  \(record.url ?? "")\n"
            if record.request.repos != nil || record.request.max_acu_limit != nil {
                out += "      repository: \(record.request.repos?.joined(separator: ", ") ?? "none")"
                    + ", ACU limit: \(record.request.max_acu_limit.map(String.init) ?? "none")\n"
            }
            if let session = record.session {
                out += "      session: \(session.status)" + (session.statusDetail.map { " (\($0))" } ?? "")
                    + (session.ended ? ", ended" : "") + ", checked \(format(session.checkedAt))\n"
                for pr in session.pullRequests { out += "      pull request: \(pr.url)" + (pr.state.map { " (\($0))" } ?? "") + "\n" }
            } else {
                out += "      session: not checked yet (devin-bridge retry follows it)\n"
            }
            for entry in entries.filter({ $0.key == record.key }).sorted(by: OutboxEntry.postingOrder) {
                switch entry.state {
                case .posted: out += "      comment \(entry.event): posted \(format(entry.postedAt))\n"
                case .pending: out += "      comment \(entry.event): pending" + (entry.reason.map { ": \($0)" } ?? "") + ", next attempt \(format(entry.nextAttemptAt))\n"
                case .failed: out += "      comment \(entry.event): failed: \(entry.reason ?? "")\n"
                }
            }
        }
        out += "\nqueued (\(queued.count)):\n"
        for record in queued {
            let state = record.state == .inFlight ? "in flight" : "next attempt \(format(record.nextAttemptAt))"
            out += "  \(record.ticket) [\(record.label)]  attempts \(record.attempts), \(state): \(record.reason ?? "waiting")\n"
        }
        out += "\nfailed (\(failed.count)):\n"
        for record in failed {
            out += "  \(format(record.updatedAt))  \(record.ticket) [\(record.label)]  attempts \(record.attempts): \(record.reason ?? "")\n"
        }
        let unreadable = store.unreadableRecords()
        if !unreadable.isEmpty {
            out += "\nunreadable records (\(unreadable.count)): move them away to let their tickets start afresh\n"
            for path in unreadable { out += "  \(path)\n" }
        }
        if !failed.isEmpty {
            out += "\nA failed ticket is tried again when the ticketing system delivers it again (fix the cause, then redeliver).\n"
        }
        return CommandResult(stdout: out)
    }

    /// "What happened to ticket X": the decisions the log kept, then the ticket's records, its
    /// comments and the replies forwarded to its session.
    public static func why(_ ticket: String, configuration: Configuration) -> CommandResult {
        let store: FileStateStore
        switch openStore(configuration, command: "why") {
        case .success(let opened): store = opened
        case .failure(let failure): return failure.result
        }
        let decisions = DecisionLog.entries(for: ticket, directory: configuration.stateDirectory)
        let records = store.allRecords().filter { $0.ticket == ticket }
        let messages = store.allMessages().filter { $0.ticket == ticket }.sorted { $0.sequence < $1.sequence }
        guard !decisions.isEmpty || !records.isEmpty || !messages.isEmpty else {
            return CommandResult(stdout: "devin-bridge has no delivery of \(ticket.debugDescription) on record (in the last 2 MiB of decisions). "
                + "If a webhook was sent: check the web server's error log for a rejected request (401, 400) — those are not kept here — "
                + "and that the id is written as the bridge shows it (PROJ-123, group/project#23, #1234, bug 5678).\n")
        }
        var out = "ticket \(ticket)\n\ndeliveries (\(decisions.count)):\n"
        for entry in decisions {
            var line = "  \(format(entry.time))  \(entry.decision)"
            if let event = entry.event { line += " [\(event)]" }
            if let label = entry.label { line += " label \(label)" }
            if let session = entry.session { line += " session \(session)" }
            if let status = entry.status { line += " (HTTP \(status))" }
            if let delivery = entry.delivery { line += " delivery \(delivery)" }
            if let reason = entry.reason { line += ": \(reason)" }
            out += line + "\n"
        }
        out += "\nsessions (\(records.count)):\n"
        let entries = store.allOutbox()
        for record in records {
            out += "  [\(record.label)] \(record.state.rawValue)" + (record.sessionID.map { " \($0)" } ?? "") + (record.url.map { " \($0)" } ?? "")
                + (record.reason.map { ": \($0)" } ?? "") + "\n"
            if let session = record.session {
                out += "      session: \(session.status)" + (session.statusDetail.map { " (\($0))" } ?? "") + "\n"
            }
            for entry in entries.filter({ $0.key == record.key }).sorted(by: OutboxEntry.postingOrder) {
                out += "      comment \(entry.event): \(entry.state.rawValue)" + (entry.reason.map { ": \($0)" } ?? "") + "\n"
            }
        }
        out += "\nreplies forwarded to the session (\(messages.count)):\n"
        for message in messages {
            out += "  comment \(message.commentID) by \(message.author): \(message.state.rawValue)"
                + (message.reason.map { ": \($0)" } ?? "") + "\n"
        }
        return CommandResult(stdout: out)
    }

    struct CommandFailure: Error { let result: CommandResult }

    static func openStore(_ configuration: Configuration, command: String) -> Result<FileStateStore, CommandFailure> {
        do {
            return .success(try FileStateStore(directory: configuration.stateDirectory))
        } catch let error as BridgeError {
            return .failure(CommandFailure(result: CommandResult(stderr: "devin-bridge \(command): \(error.logDetail)\n", exitCode: 1)))
        } catch {
            return .failure(CommandFailure(result: CommandResult(stderr: "devin-bridge \(command): \(error)\n", exitCode: 1)))
        }
    }

    static func format(_ date: Date?) -> String {
        guard let date else { return "-" }
        return DateText.iso8601(date)
    }
}

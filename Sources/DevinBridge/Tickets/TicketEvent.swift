/// What a webhook says happened to its ticket, as far as the trigger rules care.
public enum TicketEvent: Equatable, Sendable {
    /// The ticket was created (or the sender does not say: the generic format).
    case created
    /// These labels were just added.
    case labelsAdded([String])
    /// The labels changed, but the payload does not say which were added (Gitea, Redmine):
    /// acts when the ticket carries a trigger label. The one-session-per-label record keeps a
    /// later change from starting a second session.
    case labelsChanged
    /// A comment was added to the ticket (the bridge forwards it to the ticket's session, or
    /// starts one when it mentions the handle).
    case commented(TicketComment)
    /// These users were just assigned to the ticket (logins; some systems list every assignee).
    case assigned([String])
    /// Not an event the bridge acts on: answered 200 skipped with this reason.
    case ignored(String)
}

/// A comment as a ticketing system's webhook reports it.
public struct TicketComment: Equatable, Sendable {
    /// The system's id of the comment (what makes a redelivery recognisable).
    public var id: String
    /// The author's login (user name).
    public var author: String
    /// The text; nil where the webhook leaves it out (Bugzilla's private comments): the bridge
    /// reads it through the API.
    public var body: String?
    /// The comment's web page, when the payload has one.
    public var url: String?
    /// GitHub's and Gitea's `author_association` (`OWNER`, `MEMBER`, `COLLABORATOR`, ...).
    public var association: String?
    /// The system marks the author as a bot (GitHub's `user.type: Bot`).
    public var authorIsBot: Bool

    public init(id: String, author: String, body: String?, url: String? = nil, association: String? = nil, authorIsBot: Bool = false) {
        self.id = id
        self.author = author
        self.body = body
        self.url = url
        self.association = association
        self.authorIsBot = authorIsBot
    }
}

/// A decoded webhook: the ticket and what happened to it.
public struct DecodedWebhook: Equatable, Sendable {
    public var ticket: Ticket
    public var event: TicketEvent

    public init(ticket: Ticket, event: TicketEvent) {
        self.ticket = ticket
        self.event = event
    }

    /// An event the bridge does not act on, with no ticket to speak of.
    static func ignored(_ reason: String, source: TicketSource, id: String = "-") -> DecodedWebhook {
        DecodedWebhook(ticket: Ticket(id: id, title: "-", source: source.rawValue), event: .ignored(reason))
    }
}

extension TriggerRules {
    /// The trigger label an event acts on, or the reason it does not.
    public func decide(_ webhook: DecodedWebhook) -> Result<TriggerLabel, SkipReason> {
        let wanted = labels.map(\.name).joined(separator: ", ")
        switch webhook.event {
        case .ignored(let reason):
            return .failure(SkipReason(reason))
        case .created, .labelsChanged:
            if let label = match(webhook.ticket.labels) { return .success(label) }
            return .failure(SkipReason("no trigger label (looking for \(wanted))"))
        case .commented:
            return .failure(SkipReason("a comment; comments are handled by the comment rules"))
        case .assigned:
            return .failure(SkipReason("an assignment; assignments are handled by the assignment rule"))
        case .labelsAdded(let added):
            if let label = match(added) { return .success(label) }
            let list = added.isEmpty ? "none" : added.prefix(10).joined(separator: ", ")
            return .failure(SkipReason("the labels just added (\(list)) include no trigger label (looking for \(wanted))"))
        }
    }
}

/// Why an event is skipped (a sentence for the answer and the log).
public struct SkipReason: Error, Equatable, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
}

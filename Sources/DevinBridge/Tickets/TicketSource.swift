import FoundationEssentials

/// The ticketing systems whose webhooks the bridge understands.
public enum TicketSource: String, CaseIterable, Sendable {
    case generic, github, gitlab, gitea, forgejo, jira, redmine, bugzilla

    /// Which dialect a request speaks: forced by the URL (`PATH_INFO` `/jira`, or `?source=jira`),
    /// else by `TICKET_SOURCE`, else recognised from the sender's event header, else from the
    /// body's shape, else the generic format.
    public static func detect(head: CGIRequestHead, configured: TicketSource?, object: [String: JSONValue]) throws -> TicketSource {
        if let claimed = try claimed(head: head, configured: configured) { return claimed }
        return fromShape(object)
    }

    /// The sender the request names before its body is read (URL, `TICKET_SOURCE`, event header):
    /// whose own secret verifies it, when that sender has one.
    public static func claimed(head: CGIRequestHead, configured: TicketSource?) throws -> TicketSource? {
        if let forced = try forced(head: head) { return forced }
        if let configured { return configured }
        return fromHeaders(head.headers)
    }

    /// Recognised from the body: Jira's `webhookEvent`, Redmine's `payload.issue`, Bugzilla's `bug`.
    static func fromShape(_ object: [String: JSONValue]) -> TicketSource {
        if object["webhookEvent"]?.stringValue != nil { return .jira }
        if object["payload"]?["issue"] != nil { return .redmine }
        if object["bug"]?.objectValue != nil { return .bugzilla }
        return .generic
    }

    /// An example API base, for messages.
    public var exampleAPIBase: String {
        switch self {
        case .github: return "https://api.github.com (or https://ghe.example.com/api/v3)"
        case .gitlab: return "https://gitlab.example.com/api/v4"
        case .gitea, .forgejo: return "https://git.example.com/api/v1"
        case .jira: return "https://jira.example.com"
        case .redmine: return "https://redmine.example.com"
        case .bugzilla: return "https://bugzilla.example.com"
        case .generic: return "https://tickets.example.com"
        }
    }

    /// Senders that count any answer but exactly 200 as a failure and hold back what follows
    /// (Bugzilla Harmony's webhook connector): every 2xx is sent to them as 200.
    public var wantsExactly200: Bool { self == .bugzilla }

    /// The source named by the URL, if any; an unknown name is the sender's mistake (400).
    static func forced(head: CGIRequestHead) throws -> TicketSource? {
        let path: String? = head.pathInfo.split(separator: "/").first.map(String.init)
        var query: String?
        for pair in head.queryString.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "source" {
                query = parts.count > 1 ? String(parts[1]) : ""
                break
            }
        }
        guard let raw = path ?? query, !raw.isEmpty else { return nil }
        let name = raw.percentDecoded ?? raw
        guard let source = TicketSource(rawValue: name.lowercased()) else {
            throw BridgeError.invalidField("source", "\(String(name.prefix(40)).debugDescription) is not one of " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return source
    }

    /// Gitea and Forgejo also send `X-GitHub-Event`, so they are recognised first.
    static func fromHeaders(_ headers: HTTPHeaders) -> TicketSource? {
        if headers["x-forgejo-event"] != nil { return .forgejo }
        if headers["x-gitea-event"] != nil { return .gitea }
        if headers["x-gitlab-event"] != nil { return .gitlab }
        if headers["x-github-event"] != nil { return .github }
        return nil
    }

    /// Decodes a body of this dialect.
    public func decode(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        let webhook = try decodeDialect(object, headers: headers)
        if case .ignored = webhook.event { return webhook }
        try webhook.ticket.validateSizes()
        return webhook
    }

    private func decodeDialect(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        switch self {
        case .generic: return DecodedWebhook(ticket: try GenericTicketDecoder.decode(object: object), event: .created)
        case .github: return try GitHubDialect.decode(object, headers: headers)
        case .gitlab: return try GitLabDialect.decode(object, headers: headers)
        case .gitea, .forgejo: return try GiteaDialect.decode(object, headers: headers, source: self)
        case .jira: return try JiraDialect.decode(object)
        case .redmine: return try RedmineDialect.decode(object)
        case .bugzilla: return try BugzillaDialect.decode(object)
        }
    }
}

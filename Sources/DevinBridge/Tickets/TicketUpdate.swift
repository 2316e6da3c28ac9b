import FoundationEssentials

/// Something the ticket is told about its session: the comments the bridge posts.
public enum TicketUpdate: Equatable, Sendable {
    /// The session was created (or an earlier attempt's was adopted).
    case started(sessionURL: String, label: String, playbook: String?, acuLimit: Int? = nil)
    case pullRequest(sessionURL: String, url: String)
    /// Devin asks the user something; `count` tells one wait from the next.
    case waitingForUser(sessionURL: String, count: Int)
    case finished(sessionURL: String, pullRequests: [String])
    /// Suspended, with why (`inactivity`, `usage_limit_exceeded`, `out_of_quota`, `error`, ...).
    case stopped(sessionURL: String, reason: String)
    case failed(sessionURL: String)
    /// A state the bridge does not know, reported as it is.
    case other(sessionURL: String, status: String, detail: String?)
    /// Devin refused a reply forwarded from the ticket.
    case replyRefused(sessionURL: String, commentID: String, reason: String)

    /// Names the comment among the ticket's comments, so each is posted at most once.
    public var eventID: String {
        switch self {
        case .started: return "started"
        case .pullRequest(_, let url): return "pr:" + url
        case .waitingForUser(_, let count): return "waiting:\(count)"
        case .finished: return "finished"
        case .stopped(_, let reason): return "stopped:" + reason
        case .failed: return "failed"
        case .other(_, let status, let detail): return "status:\(status)/\(detail ?? "")"
        case .replyRefused(_, let commentID, _): return "reply-refused:" + commentID
        }
    }

    /// Whether the ticket hears of it at `TICKET_COMMENTS=level`.
    public func isPosted(at level: CommentLevel) -> Bool {
        switch level {
        case .off: return false
        case .ack: if case .started = self { return true } else { return false }
        case .all: return true
        }
    }

    /// The comment, in the system's markup, ending with the bridge's marker.
    public func text(markup: CommentMarkup, marker: String) -> String {
        func link(_ text: String, _ url: String) -> String {
            switch markup {
            case .markdown: return "[\(text)](\(url))"
            case .jiraWiki: return "[\(text)|\(url)]"
            case .plain: return "\(text): \(url)"
            }
        }
        func code(_ text: String) -> String {
            switch markup {
            case .markdown: return "`\(text)`"
            case .jiraWiki: return "{{\(text)}}"
            case .plain: return text
            }
        }
        var lines: [String]
        switch self {
        case .started(let url, let label, let playbook, let acuLimit):
            let trigger = label == CommentRules.mentionLabel ? "a mention" : label == CommentRules.assignmentLabel ? "an assignment"
                : "the label \(code(label))"
            let how = "Started by \(trigger)" + (playbook.map { " with the playbook \(code($0))" } ?? "")
                + (acuLimit.map { ", within at most \($0) ACUs" } ?? "") + "."
            lines = ["Devin is on it: \(link("the Devin session", url)).", how,
                     "This ticket hears back here when a pull request opens and when the session ends."]
        case .pullRequest(let session, let url):
            lines = ["Devin opened a pull request: \(markup == .markdown ? url : link("pull request", url))",
                     "Session: \(link("the Devin session", session))."]
        case .waitingForUser(let url, _):
            lines = ["Devin is waiting for an answer before it can go on.",
                     "Reply in \(link("the Devin session", url)); once replies on this ticket reach the session, a reply here will do."]
        case .finished(let url, let pullRequests):
            lines = ["Devin finished: \(link("the Devin session", url))."]
            if !pullRequests.isEmpty {
                lines.append("Pull request\(pullRequests.count > 1 ? "s" : ""): " + pullRequests.joined(separator: ", "))
            } else {
                lines.append("It opened no pull request; the session says why.")
            }
        case .stopped(let url, let reason):
            lines = ["Devin stopped: \(Self.explain(reason)) (\(code(reason))).", "Session: \(link("the Devin session", url))."]
        case .failed(let url):
            lines = ["Devin's session ended with an error: \(link("the Devin session", url)) says more."]
        case .other(let url, let status, let detail):
            lines = ["Devin's session is now \(code(status))" + (detail.map { " (\(code($0)))" } ?? "") + ".",
                     "Session: \(link("the Devin session", url))."]
        case .replyRefused(let url, _, let reason):
            lines = ["Devin could not take the reply above: \(PromptBuilder.clean(reason, limit: 300, keepNewlines: false).text)",
                     "Session: \(link("the Devin session", url))."]
        }
        let footer: String
        switch markup {
        case .markdown: footer = "<!-- devin-bridge:\(marker) -->"
        case .jiraWiki: footer = "{color:#97a0af}devin-bridge ref \(marker){color}"
        case .plain: footer = "(devin-bridge ref \(marker))"
        }
        return lines.joined(separator: "\n\n") + "\n\n" + footer
    }

    /// What a suspension's `status_detail` means for the reporter.
    static func explain(_ reason: String) -> String {
        switch reason {
        case "inactivity": return "the session was idle too long"
        case "user_request": return "someone stopped it"
        case "usage_limit_exceeded", "org_usage_limit_exceeded": return "the usage limit was reached"
        case "out_of_credits", "out_of_quota", "no_quota_allocation": return "the organization is out of quota"
        case "payment_declined": return "a payment was declined"
        case "error": return "an error"
        default: return "the session was suspended"
        }
    }
}

/// What the bridge last saw of a session (`GET .../sessions?session_ids=`).
public struct SessionSnapshot: Codable, Equatable, Sendable {
    public struct PullRequest: Codable, Equatable, Sendable {
        public var url: String
        public var state: String?
    }

    public var status: String
    public var statusDetail: String?
    public var pullRequests: [PullRequest]
    /// `exit` or `error`: polling stops.
    public var ended: Bool
    /// How many times the session began to wait for the user.
    public var waits: Int
    public var checkedAt: Date

    enum CodingKeys: String, CodingKey {
        case status, ended, waits
        case statusDetail = "status_detail"
        case pullRequests = "pull_requests"
        case checkedAt = "checked_at"
    }

    /// A state word from the API, kept to what such words are made of.
    static func word(_ text: String?) -> String? {
        guard let text else { return nil }
        let kept = String(text.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }.prefix(40).map(Character.init))
        return kept.isEmpty ? nil : kept
    }

    /// The snapshot `state` makes of `previous`, and the updates the ticket hears of.
    public static func next(after previous: SessionSnapshot?, state: SessionState, sessionURL: String, now: Date)
        -> (snapshot: SessionSnapshot, updates: [TicketUpdate]) {
        let status = word(state.status) ?? "unknown"
        let detail = word(state.statusDetail)
        let pullRequests = state.pullRequests.filter { PromptBuilder.isPlainURL($0.url) }
            .map { PullRequest(url: $0.url, state: word($0.state)) }
        var updates: [TicketUpdate] = []
        let known = Set(previous?.pullRequests.map(\.url) ?? [])
        for pr in pullRequests where !known.contains(pr.url) {
            updates.append(.pullRequest(sessionURL: sessionURL, url: pr.url))
        }
        var waits = previous?.waits ?? 0
        let changed = previous?.status != status || previous?.statusDetail != detail
        let ended = status == "exit" || status == "error"
        if changed {
            switch (status, detail) {
            case ("running", "waiting_for_user"?), ("running", "waiting_for_approval"?):
                waits += 1
                updates.append(.waitingForUser(sessionURL: sessionURL, count: waits))
            case ("exit", _), ("running", "finished"?):
                updates.append(.finished(sessionURL: sessionURL, pullRequests: pullRequests.map(\.url)))
            case ("error", _):
                updates.append(.failed(sessionURL: sessionURL))
            case ("suspended", let reason?):
                updates.append(.stopped(sessionURL: sessionURL, reason: reason))
            case ("new", _), ("creating", _), ("claimed", _), ("running", nil), ("running", "working"?), ("resuming", _), ("suspended", nil):
                break
            default:
                updates.append(.other(sessionURL: sessionURL, status: status, detail: detail))
            }
        }
        let snapshot = SessionSnapshot(status: status, statusDetail: detail, pullRequests: pullRequests, ended: ended,
                                       waits: waits, checkedAt: now)
        return (snapshot, updates)
    }
}

/// A session as the list endpoint returns it (the fields the bridge reads).
public struct SessionState: Equatable, Sendable {
    public struct PullRequest: Equatable, Sendable {
        public var url: String
        public var state: String?
        public init(url: String, state: String?) { self.url = url; self.state = state }
    }

    public var sessionID: String
    public var url: String?
    public var status: String
    public var statusDetail: String?
    public var pullRequests: [PullRequest]

    public init(sessionID: String, url: String? = nil, status: String, statusDetail: String? = nil, pullRequests: [PullRequest] = []) {
        self.sessionID = sessionID
        self.url = url
        self.status = status
        self.statusDetail = statusDetail
        self.pullRequests = pullRequests
    }
}

import FoundationEssentials

/// What the bridge does with a comment or an assignment on a ticket: the contract of
/// `DEVIN_HANDLE`, `FORWARD_COMMENTS`, `MENTION_COMMANDS`, `MENTION_PLAYBOOK`, `ASSIGNEES`,
/// `ASSIGNMENT_PLAYBOOK`, `ALLOWED_AUTHORS`, `ALLOWED_ASSOCIATIONS` and `TICKET_API_USER`.
public struct CommentRules: Sendable, Equatable {
    public enum Forward: String, Sendable { case mentions, all }

    /// The handle a comment mentions (`@devin`), without the `@`.
    public var handle = "devin"
    public var forward = Forward.mentions
    /// `@devin plan` picks the playbook of the command word `plan`.
    public var commands: [String: String] = [:]
    public var mentionPlaybook: String?
    /// Assigning a ticket to one of these users starts a session.
    public var assignees: [String] = []
    public var assignmentPlaybook: String?
    /// When set, only these users may start or steer a session (every system).
    public var allowedAuthors: [String]?
    /// GitHub's and Gitea's author associations allowed when `allowedAuthors` is not set.
    public var allowedAssociations: [String] = ["OWNER", "MEMBER", "COLLABORATOR"]
    /// The login of the ticketing token's user (the bridge's and Devin's comments); asked from the
    /// API when not set.
    public var apiUser: String?

    /// The pseudo-labels under which mention- and assignment-started sessions are recorded: the
    /// same one-session-per-ticket guarantee as trigger labels.
    public static let mentionLabel = "@mention"
    public static let assignmentLabel = "@assigned"

    public init() {}

    static func parse(settings value: (String) -> String?) throws -> CommentRules {
        var rules = CommentRules()
        func names(_ key: String) throws -> [String]? {
            guard let text = value(key) else { return nil }
            let items = text.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
            for item in items where !isName(item) {
                throw ConfigurationProblem("\(key) must list user names (letters, digits and . _ - @ +), not \(String(item.prefix(60)).debugDescription)")
            }
            return items
        }
        if let handle = value("DEVIN_HANDLE") {
            let bare = handle.hasPrefix("@") ? String(handle.dropFirst()) : handle
            guard isName(bare), !bare.contains("@") else {
                throw ConfigurationProblem("DEVIN_HANDLE must be a user name such as devin, not \(String(handle.prefix(60)).debugDescription)")
            }
            rules.handle = bare
        }
        if let text = value("FORWARD_COMMENTS") {
            guard let forward = Forward(rawValue: text.lowercased()) else {
                throw ConfigurationProblem("FORWARD_COMMENTS must be mentions or all, not \(text.debugDescription)")
            }
            rules.forward = forward
        }
        if let text = value("MENTION_COMMANDS") {
            for label in try TriggerLabel.parseList(text) {
                guard let playbook = label.playbookID, isName(label.name) else {
                    throw ConfigurationProblem("MENTION_COMMANDS items are word=playbook-id, e.g. plan=playbook-abc; \(label.name.debugDescription) has no playbook")
                }
                rules.commands[label.name.lowercased()] = playbook
            }
        }
        rules.mentionPlaybook = value("MENTION_PLAYBOOK")
        rules.assignees = try names("ASSIGNEES") ?? []
        rules.assignmentPlaybook = value("ASSIGNMENT_PLAYBOOK")
        rules.allowedAuthors = try names("ALLOWED_AUTHORS")
        if let associations = try names("ALLOWED_ASSOCIATIONS") { rules.allowedAssociations = associations.map { $0.uppercased() } }
        rules.apiUser = value("TICKET_API_USER")
        for (key, playbook) in [("MENTION_PLAYBOOK", rules.mentionPlaybook), ("ASSIGNMENT_PLAYBOOK", rules.assignmentPlaybook)] {
            if let playbook, !isName(playbook) { throw ConfigurationProblem("\(key) must be a playbook id such as playbook-abc123") }
        }
        return rules
    }

    static func isName(_ text: Substring) -> Bool { isName(String(text)) }
    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 100 && text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-@+".unicodeScalars.contains($0))
        }
    }

    // MARK: Decisions

    /// Whether `text` mentions the handle (`@devin`, or Jira's `[~devin]`, any case, as a whole word), and the command
    /// word right after it (`@devin plan ...` -> `plan`).
    public func mention(in text: String) -> (mentioned: Bool, command: String?) {
        // Jira Server writes a mention as `[~user]`: read it as `@user`.
        let lower = text.lowercased().replacing("[~" + handle.lowercased() + "]", with: "@" + handle.lowercased())
        let needle = "@" + handle.lowercased()
        var searchStart = lower.startIndex
        while let range = lower[searchStart...].firstRange(of: needle) {
            let before = range.lowerBound == lower.startIndex ? nil : lower[lower.index(before: range.lowerBound)]
            let after = range.upperBound == lower.endIndex ? nil : lower[range.upperBound]
            let boundaryBefore = before.map { !($0.isLetter || $0.isNumber || "._-@/".contains($0)) } ?? true
            let boundaryAfter = after.map { !($0.isLetter || $0.isNumber || "_-".contains($0)) } ?? true
            if boundaryBefore && boundaryAfter {
                let rest = lower[range.upperBound...].drop { $0 == " " || $0 == ":" || $0 == "\t" }
                let word = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
                return (true, commands[word] != nil ? word : nil)
            }
            searchStart = range.upperBound
        }
        return (false, nil)
    }

    /// Why `comment` may not start or steer a session, or nil when it may.
    public func refusal(of comment: TicketComment, source: TicketSource, botLogin: String?) -> String? {
        let author = comment.author
        if let text = comment.body, text.contains("devin-bridge:") || text.contains("devin-bridge ref ") {
            return "the bridge's own comment"
        }
        if let botLogin, author.lowercased() == botLogin.lowercased() {
            return "a comment by \(author), the ticketing token's user (the bridge's or Devin's own)"
        }
        if comment.authorIsBot { return "a comment by a bot (\(author))" }
        if let allowed = allowedAuthors {
            return allowed.contains(where: { $0.lowercased() == author.lowercased() }) ? nil
                : "\(author) is not in ALLOWED_AUTHORS"
        }
        switch source {
        case .github, .gitea, .forgejo:
            guard let association = comment.association?.uppercased() else {
                return "the webhook does not say how \(author) is related to the repository; list who may talk to Devin in ALLOWED_AUTHORS"
            }
            return allowedAssociations.contains(association) ? nil
                : "\(author) is \(association), not one of \(allowedAssociations.joined(separator: ", ")) (ALLOWED_ASSOCIATIONS, or list users in ALLOWED_AUTHORS)"
        default:
            return nil
        }
    }

    /// The configured assignee among `logins`, if any.
    public func assignee(in logins: [String]) -> String? {
        logins.first { login in assignees.contains { $0.lowercased() == login.lowercased() } }
    }
}
